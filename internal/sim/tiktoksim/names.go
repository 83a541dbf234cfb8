package tiktoksim

import "strings"

// Names and places the demo buyers live at. Invented; only their shape
// matters (a first and last name, UK address lines, a postcode).
var (
	firstNames = []string{"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo", "Grace", "Harry", "Zainab", "Kofi", "Siobhan", "Rhys", "Priya", "Tomasz", "Chloé", "Dylan"}
	lastNames  = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Khan", "O'Neill", "Davies", "Murphy", "Hughes", "Nowak", "Okafor", "MacLeod", "Thomas", "Roberts", "Walker", "Wright"}
	streets    = []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue", "Queen's Road", "The Crescent", "Kingsway", "Orchard Close"}
	towns      = []struct{ town, county, area string }{
		{"Manchester", "Greater Manchester", "M"}, {"Leeds", "West Yorkshire", "LS"}, {"Bristol", "Bristol", "BS"},
		{"Cardiff", "South Glamorgan", "CF"}, {"Glasgow", "Glasgow City", "G"}, {"Norwich", "Norfolk", "NR"},
		{"Belfast", "County Antrim", "BT"}, {"Brighton", "East Sussex", "BN"}, {"York", "North Yorkshire", "YO"},
		{"Plymouth", "Devon", "PL"},
	}
)

type address struct {
	first, last string
	phone       string
	line1       string
	line2       string
	town        string
	county      string
	postcode    string
}

func (s *Server) newAddress() address {
	t := towns[s.rng.IntN(len(towns))]
	a := address{
		first:  firstNames[s.rng.IntN(len(firstNames))],
		last:   lastNames[s.rng.IntN(len(lastNames))],
		phone:  "(+44)7" + s.randString(s.rng, "0123456789", 9),
		line1:  itoa(1+s.rng.IntN(180)) + " " + streets[s.rng.IntN(len(streets))],
		town:   t.town,
		county: t.county,
	}
	if s.rng.IntN(3) == 0 {
		a.line2 = "Flat " + itoa(1+s.rng.IntN(30))
	}
	a.postcode = t.area + itoa(1+s.rng.IntN(20)) + " " + itoa(s.rng.IntN(10)) + s.randString(s.rng, "ABDEFGHJLNPQRSTUWXYZ", 2)
	return a
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// mask hides all but the first letter of each word, as TikTok shows the
// buyer's name when TikTok's logistics ship the parcel.
func mask(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r := []rune(w)
		words[i] = string(r[0]) + strings.Repeat("*", max(len(r)-1, 2))
	}
	return strings.Join(words, " ")
}

// maskPhone keeps the country code and the last two digits.
func maskPhone(p string) string {
	if len(p) < 8 {
		return p
	}
	return p[:6] + strings.Repeat("*", len(p)-8) + p[len(p)-2:]
}
