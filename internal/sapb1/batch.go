package sapb1

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// BatchRequest is one request inside a $batch. Path is below the Service
// Layer root ("Orders", "Orders(12)/Close") or a reference to an earlier
// request of the same changeset ("$1/Cancel").
type BatchRequest struct {
	Method    string
	Path      string
	Body      any
	ContentID int // set to refer to this request's result as $n later
}

// BatchPart is either one GET or one changeset: a group of writes SAP
// applies all or nothing.
type BatchPart struct {
	Get       *BatchRequest
	Changeset []BatchRequest
}

// BatchResult is the answer to one request of a batch.
type BatchResult struct {
	Status int
	Body   []byte
	// Err is SAP's error when Status is not 2xx.
	Err *Error
}

// Batch sends parts in one $batch. SAP runs them in order and stops at the
// first failure: a failed changeset answers with one error for the whole
// changeset, and later parts get no answer (fewer results than parts).
func (c *Client) Batch(ctx context.Context, parts []BatchPart) ([][]BatchResult, error) {
	body, boundary, err := c.encodeBatch(parts)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{op: "batch", method: http.MethodPost, path: "$batch", raw: body,
		ctype: "multipart/mixed;boundary=" + boundary})
	if err != nil {
		return nil, err
	}
	return decodeBatch(resp.header.Get("Content-Type"), resp.body)
}

func (c *Client) encodeBatch(parts []BatchPart) ([]byte, string, error) {
	var buf bytes.Buffer
	batch := "batch_" + randomHex()
	root := c.base.Path + "/"
	writeRequest := func(w io.Writer, r BatchRequest) error {
		path := r.Path
		if !strings.HasPrefix(path, "$") {
			path = root + path
		}
		fmt.Fprintf(w, "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
		if r.ContentID > 0 {
			fmt.Fprintf(w, "Content-ID: %d\r\n", r.ContentID)
		}
		fmt.Fprintf(w, "\r\n%s %s HTTP/1.1\r\n", r.Method, path)
		if r.Body == nil {
			fmt.Fprint(w, "\r\n\r\n")
			return nil
		}
		b, err := json.Marshal(r.Body)
		if err != nil {
			return fmt.Errorf("sapb1 batch: encoding %s %s: %w", r.Method, r.Path, err)
		}
		fmt.Fprintf(w, "Content-Type: application/json\r\n\r\n%s\r\n", b)
		return nil
	}
	for _, p := range parts {
		fmt.Fprintf(&buf, "--%s\r\n", batch)
		switch {
		case p.Get != nil && p.Changeset == nil:
			if err := writeRequest(&buf, *p.Get); err != nil {
				return nil, "", err
			}
		case p.Changeset != nil && p.Get == nil:
			cs := "changeset_" + randomHex()
			fmt.Fprintf(&buf, "Content-Type: multipart/mixed;boundary=%s\r\n\r\n", cs)
			for _, r := range p.Changeset {
				if r.Method == http.MethodGet {
					return nil, "", fmt.Errorf("sapb1 batch: a changeset cannot hold a GET (%s)", r.Path)
				}
				fmt.Fprintf(&buf, "--%s\r\n", cs)
				if err := writeRequest(&buf, r); err != nil {
					return nil, "", err
				}
			}
			fmt.Fprintf(&buf, "--%s--\r\n", cs)
		default:
			return nil, "", fmt.Errorf("sapb1 batch: a part is one GET or one changeset")
		}
	}
	fmt.Fprintf(&buf, "--%s--\r\n", batch)
	return buf.Bytes(), batch, nil
}

func decodeBatch(contentType string, body []byte) ([][]BatchResult, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, fmt.Errorf("sapb1 batch: answer is not multipart (%q)", contentType)
	}
	var out [][]BatchResult
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("sapb1 batch: reading the answer: %w", err)
		}
		mt, pp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if mt == "multipart/mixed" {
			var group []BatchResult
			cr := multipart.NewReader(part, pp["boundary"])
			for {
				sub, err := cr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return out, fmt.Errorf("sapb1 batch: reading a changeset answer: %w", err)
				}
				r, err := readBatchResponse(sub)
				if err != nil {
					return out, err
				}
				group = append(group, r)
			}
			out = append(out, group)
			continue
		}
		r, err := readBatchResponse(part)
		if err != nil {
			return out, err
		}
		out = append(out, []BatchResult{r})
	}
}

func readBatchResponse(r io.Reader) (BatchResult, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return BatchResult{}, fmt.Errorf("sapb1 batch: %w", err)
	}
	// The CRLF before a boundary belongs to the boundary, so a bodiless
	// answer can arrive without the blank line that ends its headers.
	if !bytes.Contains(raw, []byte("\r\n\r\n")) {
		raw = append(raw, "\r\n"...)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return BatchResult{}, fmt.Errorf("sapb1 batch: an answer part is not an HTTP response: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return BatchResult{}, fmt.Errorf("sapb1 batch: %w", err)
	}
	res := BatchResult{Status: resp.StatusCode, Body: bytes.TrimSpace(b)}
	if resp.StatusCode/100 != 2 {
		if e, ok := parseError("batch", resp.StatusCode, res.Body); ok {
			res.Err = e
		} else {
			res.Err = &Error{Op: "batch", HTTPStatus: resp.StatusCode, Message: string(truncate(res.Body, 200))}
		}
	}
	return res, nil
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
