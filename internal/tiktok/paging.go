package tiktok

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// page is the paging part of every search answer.
type page struct {
	NextPageToken string      `json:"next_page_token"`
	TotalCount    json.Number `json:"total_count"`
}

// maxPages bounds one walk: a server that never ends paging is a bug, not a
// reason to loop forever.
const maxPages = 100000

// walk calls a search endpoint page by page until next_page_token is empty.
// page_size, page_token and the sort go in the query even on POST; decode
// receives each page's data.
func (c *Client) walk(ctx context.Context, req Request, pageSize int, decode func(data json.RawMessage) (page, error)) error {
	q := url.Values{}
	for k, v := range req.Query {
		q[k] = v
	}
	q.Set("page_size", strconv.Itoa(pageSize))
	req.Query = q
	for n := 0; n < maxPages; n++ {
		var data json.RawMessage
		if err := c.Do(ctx, req, &data); err != nil {
			return err
		}
		p, err := decode(data)
		if err != nil {
			return fmt.Errorf("tiktok %s: %w", req.Endpoint.Name, err)
		}
		if p.NextPageToken == "" {
			return nil
		}
		if p.NextPageToken == q.Get("page_token") {
			return fmt.Errorf("tiktok %s: the same page_token came back twice; stopping", req.Endpoint.Name)
		}
		q.Set("page_token", p.NextPageToken)
	}
	return fmt.Errorf("tiktok %s: more than %d pages", req.Endpoint.Name, maxPages)
}

func unmarshalNumbers(data json.RawMessage, v any) error {
	return decodeData("", data, v)
}
