package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretFormatting(t *testing.T) {
	const value = "S3cr3t-Do-Not-Print"
	s := NewSecret(value)
	if s.Reveal() != value || !s.IsSet() {
		t.Fatalf("Reveal() = %q, IsSet() = %v", s.Reveal(), s.IsSet())
	}

	type holder struct {
		Password Secret
		hidden   Secret
	}
	h := holder{Password: s, hidden: s}
	cfg := Config{Database: Database{URL: NewSecret("postgres://app:" + value + "@db/x")}}

	tests := []struct {
		name string
		got  string
		want string // "" means: just check the value is absent
	}{
		{"%v", fmt.Sprintf("%v", s), "[redacted]"},
		{"%s", fmt.Sprintf("%s", s), "[redacted]"},
		{"%+v", fmt.Sprintf("%+v", s), "[redacted]"},
		{"%#v", fmt.Sprintf("%#v", s), "[redacted]"},
		{"%q", fmt.Sprintf("%q", s), `"[redacted]"`},
		{"%x", fmt.Sprintf("%x", s), "[redacted]"},
		{"%d", fmt.Sprintf("%d", s), "[redacted]"},
		{"%10s", fmt.Sprintf("%10s", s), "[redacted]"},
		{"pointer %v", fmt.Sprintf("%v", &s), ""},
		{"String", s.String(), "[redacted]"},
		{"GoString", s.GoString(), "[redacted]"},
		{"Sprint", fmt.Sprint(s), "[redacted]"},
		{"Println", fmt.Sprintln(s), "[redacted]\n"},
		{"struct %v", fmt.Sprintf("%v", h), ""},
		{"struct %+v", fmt.Sprintf("%+v", h), ""},
		{"struct %#v", fmt.Sprintf("%#v", h), ""},
		{"Config %+v", fmt.Sprintf("%+v", cfg), ""},
		{"Config %#v", fmt.Sprintf("%#v", &cfg), ""},
		{"slice %v", fmt.Sprintf("%v", []Secret{s}), "[[redacted]]"},
		{"map %v", fmt.Sprintf("%v", map[string]any{"k": s}), "map[k:[redacted]]"},
		{"error wrap", fmt.Errorf("login with %v failed", s).Error(), "login with [redacted] failed"},
		{"unset %v", fmt.Sprintf("%v", Secret{}), "[unset]"},
		{"empty %q", fmt.Sprintf("%q", NewSecret("")), `"[unset]"`},
		{"unset %#v", fmt.Sprintf("%#v", Secret{}), "[unset]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.got, value) || strings.Contains(tt.got, "S3cr3t") {
				t.Errorf("output shows the secret: %s", tt.got)
			}
			if tt.want != "" && tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if got := fmt.Sprintf("%+v", h); !strings.Contains(got, "Password:[redacted]") {
		t.Errorf("struct %%+v = %s, want Password:[redacted]", got)
	}
}

func TestSecretMarshal(t *testing.T) {
	const value = "S3cr3t-Do-Not-Print"
	s := NewSecret(value)

	b, err := json.Marshal(struct {
		Password Secret
		Token    *Secret `json:"token"`
		Empty    Secret  `json:"empty"`
		Map      map[string]Secret
	}{s, &s, Secret{}, map[string]Secret{"k": s}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Password":"[redacted]","token":"[redacted]","empty":"[unset]","Map":{"k":"[redacted]"}}`; string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}

	b, err = json.Marshal(Config{Database: Database{URL: NewSecret("postgres://app:" + value + "@db/x")}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), value) || !strings.Contains(string(b), `"URL":"[redacted]"`) {
		t.Errorf("json.Marshal(Config) = %s", b)
	}

	text, err := s.MarshalText()
	if err != nil || string(text) != "[redacted]" {
		t.Errorf("MarshalText() = %q, %v", text, err)
	}
}

func TestSecretSlog(t *testing.T) {
	const value = "S3cr3t-Do-Not-Print"
	s := NewSecret(value)
	cfg := Config{SAPB1: SAPB1{User: "manager", Password: s}}

	var jsonOut, textOut bytes.Buffer
	for _, logger := range []*slog.Logger{
		slog.New(slog.NewJSONHandler(&jsonOut, nil)),
		slog.New(slog.NewTextHandler(&textOut, nil)),
	} {
		logger.Info("start", "password", s, slog.Any("secret", s), "ptr", &s, "config", cfg,
			slog.Group("sap", "password", s))
	}
	for name, out := range map[string]string{"JSON": jsonOut.String(), "text": textOut.String()} {
		if strings.Contains(out, value) || strings.Contains(out, "S3cr3t") {
			t.Errorf("%s handler output shows the secret: %s", name, out)
		}
	}
	for _, want := range []string{`"password":"[redacted]"`, `"secret":"[redacted]"`, `"ptr":"[redacted]"`, `"Password":"[redacted]"`, `"sap":{"password":"[redacted]"}`} {
		if !strings.Contains(jsonOut.String(), want) {
			t.Errorf("JSON handler output lacks %s: %s", want, jsonOut.String())
		}
	}
	for _, want := range []string{"password=[redacted]", "secret=[redacted]", "sap.password=[redacted]"} {
		if !strings.Contains(textOut.String(), want) {
			t.Errorf("text handler output lacks %s: %s", want, textOut.String())
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:hunter2@db:5432/tiktokb1", "postgres://app:xxxxx@db:5432/tiktokb1"},
		{"postgres://app:hunter2@db:5432/tiktokb1?sslmode=require", "postgres://app:xxxxx@db:5432/tiktokb1?sslmode=require"},
		{"postgres://app:p%40ss%3Aw%2Fd@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app:p@ss@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app@db:5432/tiktokb1", "postgres://app@db:5432/tiktokb1"},
		{"postgres://db:5432/tiktokb1", "postgres://db:5432/tiktokb1"},
		{"postgres:///tiktokb1?host=/run/postgresql", "postgres:///tiktokb1?host=/run/postgresql"},
		{"postgres://db/x?user=app&password=hunter2&sslmode=verify-full", "postgres://db/x?user=app&password=xxxxx&sslmode=verify-full"},
		{"postgres://db/x?sslpassword=hunter2", "postgres://db/x?sslpassword=xxxxx"},
		{"sqlserver://sa:hunter2@sap:1433?database=SBODEMOUS", "sqlserver://sa:xxxxx@sap:1433?database=SBODEMOUS"},
		{"https://sap:50000/b1s/v1", "https://sap:50000/b1s/v1"},
		// Passwords that net/url cannot read as user info.
		{"postgres://app:hun#ter2@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app:12/ter2@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app:12?ter2@db/x", "postgres://app:xxxxx@db/x"},
		{"postgres://app:hun ter2@db/x?password=hunter2", "postgres://app:xxxxx@db/x?password=xxxxx"},
		// key=value connection strings.
		{"host=db user=app password=hunter2 dbname=x", "host=db user=app password=xxxxx dbname=x"},
		{"password=hunter2 host=db", "password=xxxxx host=db"},
		{"host=db password = hunter2", "host=db password = xxxxx"},
		{`host=db password='hun ter\'2' dbname=x`, "host=db password=xxxxx dbname=x"},
		{"host=db PASSWORD=hunter2", "host=db PASSWORD=xxxxx"},
		{"host=db sslpassword=hunter2 sslmode=require", "host=db sslpassword=xxxxx sslmode=require"},
		{"host=db user=app dbname=x", "host=db user=app dbname=x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
