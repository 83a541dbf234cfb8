package sapb1sim

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// batchPart is one request of a test batch: "METHOD path" and a body.
type testPart struct {
	line, body, contentID string
}

// batchBody builds a $batch body: plain parts, and changesets as nested
// lists.
func batchBody(parts ...any) (string, string) {
	var b strings.Builder
	const boundary = "batch_36522ad7-fc75-4b56-8c71-56071383e77b"
	write := func(p testPart) {
		b.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
		if p.contentID != "" {
			b.WriteString("Content-ID: " + p.contentID + "\r\n")
		}
		b.WriteString("\r\n" + p.line + " HTTP/1.1\r\n")
		if p.body != "" {
			b.WriteString("Content-Type: application/json\r\n\r\n" + p.body + "\r\n")
		} else {
			b.WriteString("\r\n\r\n")
		}
	}
	for i, part := range parts {
		b.WriteString("--" + boundary + "\r\n")
		switch p := part.(type) {
		case testPart:
			write(p)
		case []testPart:
			cs := "changeset_77162fcd-" + string(rune('a'+i))
			b.WriteString("Content-Type: multipart/mixed;boundary=" + cs + "\r\n\r\n")
			for _, sub := range p {
				b.WriteString("--" + cs + "\r\n")
				write(sub)
			}
			b.WriteString("--" + cs + "--\r\n")
		}
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String(), "multipart/mixed;boundary=" + boundary
}

// batchAnswer is one part of a batch response.
type batchAnswer struct {
	status    string
	contentID string
	body      string
}

func readBatch(t *testing.T, r *resp) []batchAnswer {
	t.Helper()
	if r.status != 202 {
		t.Fatalf("batch: %s", r)
	}
	_, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	var out []batchAnswer
	var walk func(body []byte, boundary string)
	walk = func(body []byte, boundary string) {
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("batch answer: %v\n%s", err, r.raw)
			}
			raw, _ := io.ReadAll(p)
			if mt, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt == "multipart/mixed" {
				walk(raw, ps["boundary"])
				continue
			}
			head, rest, _ := strings.Cut(string(raw), "\r\n")
			_, bodyText, _ := strings.Cut(rest, "\r\n\r\n")
			out = append(out, batchAnswer{status: strings.TrimPrefix(head, "HTTP/1.1 "), contentID: p.Header.Get("Content-ID"), body: bodyText})
		}
	}
	walk(r.raw, params["boundary"])
	return out
}

func TestBatchChangesetCommitsWhole(t *testing.T) {
	ts := shop(t, nil)
	body, ct := batchBody(
		testPart{line: "GET /b1s/v1/Items('A')"},
		[]testPart{
			{line: "POST /b1s/v1/Orders", contentID: "1", body: `{"CardCode":"C1","DocDueDate":"2024-06-30","DocumentLines":[{"ItemCode":"A","Quantity":2,"WarehouseCode":"01"}]}`},
			{line: "PATCH /b1s/v1/$1", contentID: "2", body: `{"Comments":"from a changeset"}`},
			{line: "POST $1/Close", contentID: "3"},
		},
	)
	got := readBatch(t, ts.c.do("POST", "$batch", body, "Content-Type", ct))
	if len(got) != 4 || got[0].status != "200 OK" || got[1].status != "201 Created" || got[1].contentID != "1" || got[2].status != "204 No Content" || got[3].status != "204 No Content" {
		t.Fatalf("answers: %+v", got)
	}
	o := ts.c.must(200, "GET", "Orders(1)", nil)
	if o.json["Comments"] != "from a changeset" || o.json["DocumentStatus"] != "bost_Close" {
		t.Fatalf("order: %s", o)
	}
	ts.wantStock("A", "01", "10", "0")
	if ts.srv.Stats().Documents != 1 {
		t.Errorf("documents = %d", ts.srv.Stats().Documents)
	}
}

func TestBatchChangesetFailingInItsSecondPartRollsBackWhole(t *testing.T) {
	ts := shop(t, nil)
	body, ct := batchBody(
		[]testPart{
			{line: "POST /b1s/v1/Orders", contentID: "1", body: `{"CardCode":"C1","DocDueDate":"2024-06-30","DocumentLines":[{"ItemCode":"A","Quantity":2,"WarehouseCode":"01"}]}`},
			{line: "POST /b1s/v1/DeliveryNotes", contentID: "2", body: `{"CardCode":"C1","DocumentLines":[{"ItemCode":"A","Quantity":50,"WarehouseCode":"01"}]}`},
		},
		testPart{line: "GET /b1s/v1/Items('A')"},
	)
	got := readBatch(t, ts.c.do("POST", "$batch", body, "Content-Type", ct))
	if len(got) != 1 || got[0].status != "400 Bad Request" || !strings.Contains(got[0].body, "Quantity falls into negative inventory") {
		t.Fatalf("want one error part and nothing after it, got %+v", got)
	}
	if n := ts.c.must(200, "GET", "Orders/$count", nil); string(n.raw) != "0" {
		t.Fatalf("the order of the failed changeset exists: %s", n.raw)
	}
	ts.wantStock("A", "01", "10", "0")
	// Numbering rolled back too.
	if r := ts.c.must(201, "POST", "Orders", map[string]any{"CardCode": "C1", "DocDueDate": "2024-06-30", "DocumentLines": []any{line("A", "01", 1)}}); jnum(r.json["DocEntry"]) != 1 {
		t.Fatalf("DocEntry after rollback: %v", r.json["DocEntry"])
	}
}

func TestBatchStopsAtFirstFailureAndRefusesGarbage(t *testing.T) {
	ts := shop(t, nil)
	body, ct := batchBody(
		testPart{line: "GET /b1s/v1/Items('A')"},
		testPart{line: "GET /b1s/v1/Items('NOPE')"},
		testPart{line: "POST /b1s/v1/Warehouses", body: `{"WarehouseCode":"09","WarehouseName":"never"}`},
	)
	got := readBatch(t, ts.c.do("POST", "$batch", body, "Content-Type", ct))
	if len(got) != 2 || got[1].status != "404 Not Found" || !strings.Contains(got[1].body, "-2028") {
		t.Fatalf("answers: %+v", got)
	}
	wantError(t, ts.c.do("GET", "Warehouses('09')", nil), 404, -2028, "No matching")
	for _, bad := range []struct{ body, ct string }{
		{"not multipart", "multipart/mixed;boundary=x"},
		{body, "application/json"},
		{"--x\r\nContent-Type: application/http\r\n\r\nGARBAGE\r\n--x--\r\n", "multipart/mixed;boundary=x"},
		{"--x--\r\n", "multipart/mixed;boundary=x"},
	} {
		wantError(t, ts.c.do("POST", "$batch", bad.body, "Content-Type", bad.ct), 400, -1000, "Incomplete Batch Request Body!")
	}
	// A GET inside a changeset is malformed.
	b2, ct2 := batchBody([]testPart{{line: "GET /b1s/v1/Items('A')"}})
	wantError(t, ts.c.do("POST", "$batch", b2, "Content-Type", ct2), 400, -1000, "Incomplete Batch Request Body!")
	// Without a session the batch is refused like any request.
	c := ts.newClient()
	wantError(t, c.do("POST", "$batch", body, "Content-Type", ct), 401, 301, "Invalid session")
	_ = http.StatusOK
}
