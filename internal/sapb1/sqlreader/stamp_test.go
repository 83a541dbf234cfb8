package sqlreader

import (
	"testing"
	"time"
)

// SAP stamps are a date plus HHMMSS; the overlap crosses midnight correctly.
func TestStampBefore(t *testing.T) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		s       Stamp
		d       time.Duration
		date    time.Time
		ts      int
		comment string
	}{
		{Stamp{Date: day, TS: 92745, Key: "A"}, 60 * time.Second, day, 92645, "a minute earlier the same day"},
		{Stamp{Date: day, TS: 30, Key: "A"}, 60 * time.Second, day.AddDate(0, 0, -1), 235930, "across midnight"},
		{Stamp{Date: day, TS: 0}, 0, day, 0, "no overlap"},
	}
	for _, c := range cases {
		got := c.s.Before(c.d)
		if !got.Date.Equal(c.date) || got.TS != c.ts || got.Key != "" {
			t.Errorf("%s: %+v.Before(%v) = %+v, want %v %06d with no key", c.comment, c.s, c.d, got, c.date.Format("2006-01-02"), c.ts)
		}
	}
}
