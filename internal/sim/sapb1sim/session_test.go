package sapb1sim

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginSetsBothCookiesAndLogoutEndsTheSession(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.newClient()
	r := c.do("POST", "Login", map[string]string{"CompanyDB": ts.srv.opts.CompanyDB, "UserName": testUser, "Password": testPassword})
	if r.status != 200 || r.json["Version"] != "1000190" || jnum(r.json["SessionTimeout"]) != 30 || r.json["SessionId"] == "" {
		t.Fatalf("login: %s", r)
	}
	if !strings.HasSuffix(r.json["odata.metadata"].(string), "/b1s/v1/$metadata#B1Sessions/@Element") {
		t.Errorf("odata.metadata = %v", r.json["odata.metadata"])
	}
	cookies := strings.Join(r.header.Values("Set-Cookie"), "\n")
	if !strings.Contains(cookies, "B1SESSION="+r.json["SessionId"].(string)+"; HttpOnly") || !strings.Contains(cookies, "ROUTEID=.node1; Path=/b1s") {
		t.Errorf("cookies: %s", cookies)
	}
	c.must(200, "GET", "Items", nil)
	c.must(204, "POST", "Logout", nil)
	wantError(t, c.do("GET", "Items", nil), 401, 301, "Invalid session or session already timeout.")
	if got := ts.srv.Stats().Logins; got != 2 {
		t.Errorf("logins = %d, want 2 (the fixture's and this one)", got)
	}
}

func TestLoginFailures(t *testing.T) {
	ts := newSim(t, nil)
	c := ts.newClient()
	db := ts.srv.opts.CompanyDB
	for _, body := range []map[string]string{
		{"CompanyDB": db, "UserName": testUser, "Password": "wrong"},
		{"CompanyDB": db, "UserName": "nobody", "Password": testPassword},
		{"CompanyDB": "OTHERDB", "UserName": testUser, "Password": testPassword},
	} {
		wantError(t, c.do("POST", "Login", body), 401, 100000027, "Login failed")
	}
	// The path is case-sensitive: /login is not the login resource, so it
	// needs a session like any other.
	wantError(t, c.do("POST", "login", map[string]string{"CompanyDB": db, "UserName": testUser, "Password": testPassword}), 401, 301, "Invalid session")
	wantError(t, c.do("GET", "Orders", nil), 401, 301, "Invalid session")
	if got := ts.srv.Stats().Logins; got != 1 {
		t.Errorf("logins = %d, want only the fixture's", got)
	}
	// A session cookie that was never issued is no session.
	r := c.do("GET", "Items", nil, "Cookie", "B1SESSION=3f2504e0-4f89-41d3-9a0c-0305e82c3301; ROUTEID=.node1")
	wantError(t, r, 401, 301, "Invalid session")
}

func TestSessionTimesOutWhenIdleAndReloginWorks(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := newSim(t, func(o *Options) { o.Now = clock })
	c := ts.c
	// Idle time slides: 29 minutes twice is fine.
	advance(29 * time.Minute)
	c.must(200, "GET", "Warehouses", nil)
	advance(29 * time.Minute)
	c.must(200, "GET", "Warehouses", nil)
	advance(31 * time.Minute)
	wantError(t, c.do("GET", "Warehouses", nil), 401, 301, "Invalid session or session already timeout.")
	c.login()
	c.must(200, "GET", "Warehouses", nil)

	ts.srv.ExpireSessions()
	wantError(t, c.do("GET", "Warehouses", nil), 401, 301, "Invalid session")
}

func TestUnknownPaths(t *testing.T) {
	ts := newSim(t, nil)
	wantError(t, ts.c.do("GET", "NoSuchThings", nil), 404, -1, "Resource not found for the segment 'NoSuchThings'")
	wantError(t, ts.c.do("GET", "Orders(1)/Lines/x", nil), 404, -1, "Resource not found")
	r := ts.c.do("GET", "/b1s/v2/Orders", nil)
	if r.status != 404 || !strings.Contains(string(r.raw), "Not Found") {
		t.Fatalf("outside /b1s/v1: %s", r)
	}
	wantError(t, ts.c.do("PUT", "Items('A')", map[string]any{}), 501, -1, "PUT is not supported")
}
