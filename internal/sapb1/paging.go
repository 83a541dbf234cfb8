package sapb1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxPages bounds one listing against a server that never stops paging.
const maxPages = 100000

// List reads every page of a collection, following odata.nextLink, and calls
// fn with each page's value array. The page size is asked for with
// Prefer: odata.maxpagesize.
func (c *Client) List(ctx context.Context, set string, query url.Values, fn func(page json.RawMessage) error) error {
	h := http.Header{"Prefer": {"odata.maxpagesize=" + strconv.Itoa(c.cfg.PageSize)}}
	r := request{op: "list " + set, method: http.MethodGet, path: set, query: query, headers: h}
	for n := 0; n < maxPages; n++ {
		resp, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		var out struct {
			Value    json.RawMessage `json:"value"`
			NextLink string          `json:"odata.nextLink"`
			NextV4   string          `json:"@odata.nextLink"`
		}
		if err := decode(r.op, resp.body, &out); err != nil {
			return err
		}
		if err := fn(out.Value); err != nil {
			return err
		}
		next := out.NextLink
		if next == "" {
			next = out.NextV4
		}
		if next == "" {
			return nil
		}
		path, q, err := c.resolveNext(next)
		if err != nil {
			return fmt.Errorf("sapb1 %s: %w", r.op, err)
		}
		r.path, r.query = path, q
	}
	return fmt.Errorf("sapb1 %s: more than %d pages", r.op, maxPages)
}

// resolveNext turns a nextLink (absolute, root-relative like
// /b1s/v1/Orders?$skip=20, or relative to the root) into a path below the
// root and its query.
func (c *Client) resolveNext(next string) (string, url.Values, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", nil, fmt.Errorf("odata.nextLink %q: %w", next, err)
	}
	path := u.Path
	if strings.HasPrefix(path, "/") {
		rel, ok := strings.CutPrefix(path, c.base.Path+"/")
		if !ok {
			return "", nil, fmt.Errorf("odata.nextLink %q is outside the Service Layer root %s", next, c.base.Path)
		}
		path = rel
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("odata.nextLink %q: %w", next, err)
	}
	return path, q, nil
}

func isUnknown(err error) bool { return errors.Is(err, ErrUnknownOutcome) }
