package sapb1sim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// $batch (SLG §3.9, reference §A5): POST /b1s/v1/$batch with a
// multipart/mixed body. Parts run one after the other and the batch stops at
// the first failure. A changeset (a nested multipart/mixed) is atomic: all
// of its requests run in one Postgres transaction and a failure rolls every
// one back, answered by a single error part. Inside a changeset "$n" refers
// to the entity created by the request with Content-ID n. The answer is 202
// with a multipart/mixed body of "HTTP/1.1 …" parts; a body that cannot be
// read is 400 -1000 "Incomplete Batch Request Body!".

type batchReq struct {
	parts []batchPart
}

type batchPart struct {
	changeset  bool
	requests   []*slReq
	contentIDs []string
}

var errIncomplete = errors.New("incomplete batch")

func parseBatch(contentType string, body []byte) (*batchReq, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		return nil, errIncomplete
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	b := &batchReq{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errIncomplete
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return nil, errIncomplete
		}
		ct := p.Header.Get("Content-Type")
		if strings.HasPrefix(strings.ToLower(ct), "multipart/mixed") {
			cs, err := parseChangeset(ct, raw)
			if err != nil {
				return nil, err
			}
			b.parts = append(b.parts, *cs)
			continue
		}
		rq, err := parseSubRequest(p.Header, raw)
		if err != nil {
			return nil, err
		}
		b.parts = append(b.parts, batchPart{requests: []*slReq{rq}, contentIDs: []string{p.Header.Get("Content-ID")}})
	}
	if len(b.parts) == 0 {
		return nil, errIncomplete
	}
	return b, nil
}

func parseChangeset(contentType string, raw []byte) (*batchPart, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, errIncomplete
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	cs := &batchPart{changeset: true}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errIncomplete
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, errIncomplete
		}
		if strings.HasPrefix(strings.ToLower(p.Header.Get("Content-Type")), "multipart/") {
			return nil, errIncomplete // changesets do not nest
		}
		rq, err := parseSubRequest(p.Header, body)
		if err != nil {
			return nil, err
		}
		if rq.method == http.MethodGet {
			return nil, errIncomplete // changesets hold no GETs
		}
		cs.requests = append(cs.requests, rq)
		cs.contentIDs = append(cs.contentIDs, strings.TrimSpace(p.Header.Get("Content-ID")))
	}
	if len(cs.requests) == 0 {
		return nil, errIncomplete
	}
	return cs, nil
}

// parseSubRequest reads "METHOD URL [HTTP/1.1]", headers, a blank line and
// the body of one application/http part.
func parseSubRequest(h textproto.MIMEHeader, raw []byte) (*slReq, error) {
	if ct := strings.ToLower(h.Get("Content-Type")); ct != "" && !strings.HasPrefix(ct, "application/http") {
		return nil, errIncomplete
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	line, err := r.ReadString('\n')
	for err == nil && strings.TrimSpace(line) == "" {
		line, err = r.ReadString('\n')
	}
	fields := strings.Fields(line)
	if len(fields) < 2 || len(fields) > 3 {
		return nil, errIncomplete
	}
	rq := &slReq{method: strings.ToUpper(fields[0]), header: http.Header{}}
	target := fields[1]
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		if j := strings.Index(rest, "/"); j >= 0 {
			target = rest[j:]
		} else {
			target = ""
		}
	}
	target = strings.TrimPrefix(target, "/b1s/v1/")
	target = strings.TrimPrefix(target, "/")
	rq.path, rq.query, _ = strings.Cut(target, "?")
	tp := textproto.NewReader(r)
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return nil, errIncomplete
	}
	for k, v := range hdr {
		rq.header[k] = v
	}
	body, _ := io.ReadAll(r)
	rq.body = bytes.TrimRight(body, "\r\n")
	if o := rq.header.Get("X-HTTP-Method-Override"); o != "" && rq.method == http.MethodPost {
		rq.method = strings.ToUpper(o)
	}
	return rq, nil
}

// serveBatch runs a parsed $batch.
func (s *Server) serveBatch(ctx context.Context, rq *slReq) *slResp {
	if rq.method != http.MethodPost {
		return errorResp(methodNotAllowed(rq.method))
	}
	b := rq.batch
	if b == nil {
		var err error
		if b, err = parseBatch(rq.header.Get("Content-Type"), rq.body); err != nil {
			return errorResp(errQuery("Incomplete Batch Request Body!"))
		}
	}
	boundary := "batchresponse_" + newSessionID()
	var out bytes.Buffer
	for _, p := range b.parts {
		for _, sub := range p.requests {
			sub.base = rq.base
		}
		if !p.changeset {
			sub := p.requests[0]
			var resp *slResp
			if op, err := s.routeSub(sub); err != nil {
				resp = errorResp(err)
			} else {
				resp = s.runOne(ctx, op, sub)
			}
			writePart(&out, boundary, "", resp)
			if resp.status >= 400 {
				break
			}
			continue
		}
		resps, failed := s.runChangeset(ctx, p)
		if failed != nil {
			writePart(&out, boundary, "", failed)
			break
		}
		csBoundary := "changesetresponse_" + newSessionID()
		fmt.Fprintf(&out, "--%s\r\nContent-Type: multipart/mixed;boundary=%s\r\n\r\n", boundary, csBoundary)
		for i, resp := range resps {
			writePart(&out, csBoundary, p.contentIDs[i], resp)
		}
		fmt.Fprintf(&out, "--%s--\r\n", csBoundary)
	}
	fmt.Fprintf(&out, "--%s--\r\n", boundary)
	h := http.Header{}
	h.Set("Content-Type", "multipart/mixed;boundary="+boundary)
	return &slResp{status: http.StatusAccepted, header: h, body: out.Bytes()}
}

// routeSub routes a request inside a batch; sessions and batches cannot be
// nested in one.
func (s *Server) routeSub(sub *slReq) (*operation, *slError) {
	switch sub.path {
	case "Login", "Logout", "$batch":
		return nil, errQuery("'%s' is not allowed inside $batch", sub.path)
	}
	return s.route(sub)
}

// runChangeset runs a changeset in one transaction. It returns the answers,
// or the single error answer of the request that failed (and rolled back
// everything).
func (s *Server) runChangeset(ctx context.Context, p batchPart) ([]*slResp, *slResp) {
	tc := &txCtx{}
	var resps []*slResp
	var failed *slError
	slotEnd := time.Now()
	defer func() { _ = sleepUntil(ctx, slotEnd) }()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tc.tx = tx
		created := map[string]string{} // Content-ID → "Orders(12)"
		for i, sub := range p.requests {
			if strings.HasPrefix(sub.path, "$") {
				ref, rest, _ := strings.Cut(sub.path[1:], "/")
				target, ok := created[ref]
				if !ok {
					failed = errQuery("Content-ID '$%s' does not name an entity created earlier in this changeset", ref)
					return failed
				}
				sub.path = target
				if rest != "" {
					sub.path += "/" + rest
				}
			}
			op, err := s.routeSub(sub)
			if err != nil {
				failed = err
				return err
			}
			if op.paced {
				end, err := s.admitWrite(ctx)
				slotEnd = end
				if err != nil {
					failed = err
					return err
				}
			}
			resp, err := s.execute(ctx, op, sub, tc)
			if err != nil {
				failed = err
				return err
			}
			if id := p.contentIDs[i]; id != "" && op.kind == opCreate {
				if loc := resp.header.Get("Location"); loc != "" {
					_, after, _ := strings.Cut(loc, "/b1s/v1/")
					created[id] = after
				}
			}
			resps = append(resps, resp)
		}
		return nil
	})
	if err != nil {
		if failed == nil {
			failed, _ = asSLError(err)
		}
		s.countDeadlock(failed)
		return nil, errorResp(failed)
	}
	s.committed(ctx, tc)
	return resps, nil
}

func writePart(out *bytes.Buffer, boundary, contentID string, resp *slResp) {
	fmt.Fprintf(out, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n", boundary)
	if contentID != "" {
		fmt.Fprintf(out, "Content-ID: %s\r\n", contentID)
	}
	fmt.Fprintf(out, "\r\nHTTP/1.1 %d %s\r\n", resp.status, http.StatusText(resp.status))
	for k, vs := range resp.header {
		for _, v := range vs {
			fmt.Fprintf(out, "%s: %s\r\n", k, v)
		}
	}
	if len(resp.body) > 0 {
		fmt.Fprintf(out, "Content-Length: %d\r\n", len(resp.body))
	}
	out.WriteString("\r\n")
	out.Write(resp.body)
	// The CRLF before the next boundary belongs to the boundary: without
	// this one, an answer with no body would lose the blank line that ends
	// its headers.
	out.WriteString("\r\n")
}
