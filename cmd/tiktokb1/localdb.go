package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tiktokb1/tiktokb1/internal/localpg"
)

const localDBUsage = `local-db url|stop [--private]

  url    print the URL of the local Postgres that is used when DATABASE_URL is
         unset, starting the private cluster under TIKTOKB1_DATA_DIR if needed
         (for example: psql "$(tiktokb1 local-db url)")
  stop   stop the private cluster, if one runs`

func runLocalDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("local-db", localDBUsage, stdout, stderr, nil)
	private := fs.Bool("private", false, "with url: use the private cluster under TIKTOKB1_DATA_DIR even when a server listens on 5432")
	var action string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if (action != "url" && action != "stop") || fs.NArg() > 0 {
		return usageError(fs, stderr, "expected one action: url or stop")
	}
	cfg, logger, err := loadConfig(stderr)
	if err != nil {
		return err
	}
	if action == "stop" {
		return localpg.Stop(ctx, cfg.Database.DataDir)
	}
	url, err := localpg.Ensure(ctx, localpg.Options{
		DataDir:  cfg.Database.DataDir,
		Database: "tiktokb1",
		Private:  *private,
		Logf:     func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, url)
	return nil
}
