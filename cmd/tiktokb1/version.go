package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/tiktokb1/tiktokb1/internal/buildinfo"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version", stdout, stderr, nil)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tiktokb1 %s (%s, %s/%s)\n", buildinfo.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
