// Command tiktokb1 is the TikTok Shop ↔ SAP Business One integration service.
// This file only wires: each subcommand reads its flags and the environment,
// then calls into internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tiktokb1/tiktokb1/internal/config"
)

// exitUsage is the exit code for bad flags or configuration (as sysexits' EX_USAGE).
const exitUsage = 2

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run the service: HTTP (health, metrics, River UI) and the River workers", runServe},
	{"migrate", "bring the database schema up to date, roll it back, or show its status", runMigrate},
	{"mapping", "import or export the orders flow's configuration as CSV: shops, tax codes, SKU map, bundles", runMapping},
	{"inventory", "release inventory pushes held for changing too many TikTok listings at once (inventory confirm)", runInventory},
	{"replay", "derive typed tables again from the landed raw payloads (replay orders), e.g. after a fix", runReplay},
	{"doctor", "check connections, the schema and SAP's user fields; --fix creates missing fields", runDoctor},
	{"local-db", "print the URL of the local Postgres used when DATABASE_URL is unset, or stop it", runLocalDB},
	{"sim", "run a simulator of an outside system (TikTok Shop, SAP Business One) for tests, the demo and rehearsals", runSim},
	{"version", "print the version of this build", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return exitUsage
		default:
			var cfgErr *config.Error
			if errors.As(err, &cfgErr) {
				fmt.Fprintf(stderr, "tiktokb1 %s: %v\nSee `tiktokb1 %s --help` for every variable.\n", c.name, err, c.name)
				return exitUsage
			}
			fmt.Fprintf(stderr, "tiktokb1 %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "tiktokb1: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "tiktokb1 connects TikTok Shop shops to one SAP Business One company.")
	fmt.Fprintln(w, "\nUsage: tiktokb1 COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `tiktokb1 COMMAND --help` for a command's flags. Configuration comes from")
	fmt.Fprintln(w, "environment variables (`tiktokb1 serve --help` lists them); with DATABASE_URL unset")
	fmt.Fprintln(w, "a local Postgres is used, started under .data/ if none is listening.")
}

// errUsage marks an error already explained to the user by its flag set.
var errUsage = errors.New("usage")

// newFlags returns a flag set whose --help prints usage (with the extra text)
// to stdout, and whose errors print usage to stderr.
func newFlags(name, usage string, stdout, stderr io.Writer, extra func(io.Writer)) *flag.FlagSet {
	fs := flag.NewFlagSet("tiktokb1 "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	printTo := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: tiktokb1 %s\n", usage)
		fs.SetOutput(w)
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		if extra != nil {
			extra(w)
		}
	}
	fs.Usage = func() { printTo(stdout) }
	_ = stderr
	return fs
}

// parse parses args; on a bad flag it prints the problem and usage to stderr.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	fmt.Fprintf(stderr, "%s: %v (see --help)\n", fs.Name(), err)
	return errUsage
}

// loadConfig reads the environment and builds the logger it describes.
func loadConfig(stderr io.Writer) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: cfg.Log.Level}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.Log.Format == config.LogFormatJSON {
		h = slog.NewJSONHandler(stderr, opts)
	}
	return cfg, slog.New(h), nil
}

func printVariables(w io.Writer) {
	fmt.Fprintln(w, "\nEnvironment (a secret NAME can also be read from the file named by NAME_FILE):")
	for _, v := range config.Variables() {
		def := v.Default
		if def == "" {
			def = "unset"
		}
		secret := ""
		if v.Secret {
			secret = " (secret)"
		}
		fmt.Fprintf(w, "  %s%s\n      %s Default: %s.\n", v.Name, secret, v.Description, def)
	}
}

// usageError prints a problem with the command line and returns errUsage.
func usageError(fs interface{ Name() string }, stderr io.Writer, format string, args ...any) error {
	fmt.Fprintf(stderr, "%s: %s (see --help)\n", fs.Name(), fmt.Sprintf(format, args...))
	return errUsage
}
