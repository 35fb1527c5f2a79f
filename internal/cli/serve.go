package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/server"
)

var servePage = &page{
	summary: "run the edge: verify signed links and serve a private origin",
	usage:   []string{"serve [--config FILE] [--listen ADDR] [--data-dir DIR]"},
	about: `Runs the edge: verifies signed URLs and cookies per path behavior and serves
objects from a private origin.

Without --config, signet serve needs no setup: it creates DIR (default
./signet-data) with a key pair and a files/ directory holding a sample file,
serves files/ on 127.0.0.1:8080 to links signed by that key, and prints a
working signed link and the command that signs more (on stderr). With
--config, it runs the distributions, behaviors and origins of FILE (see
signet config example).

Logs go to stderr; the access log, one record per request, goes to stdout,
both in log.format (json or text). SIGINT or SIGTERM stops accepting
connections and lets in-flight downloads finish, up to timeouts.shutdown.`,
	examples: []string{
		"serve",
		"serve --config /etc/signet/signet.yaml",
		"serve --config signet.yaml --listen 127.0.0.1:9000",
	},
	exit: "0 after a clean shutdown; 2 the server could not start (bad config, port in use, unreadable key).",
}

// ServeCommand runs `signet serve`.
type ServeCommand struct{ Env }

// Run serves until ctx ends (the signal handler in main cancels it).
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("serve")
	configFile := fs.String("config", "", "YAML configuration `FILE` (check it with: signet config validate FILE)")
	listen := fs.String("listen", "", "override the address of the first listener `ADDR` (such as 127.0.0.1:9000; :0 picks a free port)")
	dataDir := fs.String("data-dir", "", "zero-config data directory `DIR` (default ./signet-data)")
	pos, err := parseArgs(fs, servePage, &c.Env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (see 'signet serve -h')", pos[0])
	}

	var (
		cfg  *config.Config
		demo *server.Demo
	)
	if *configFile != "" {
		if *dataDir != "" {
			return errors.New("--data-dir is for zero-config runs; set data_dir in the config file")
		}
		cfg, err = config.Load(*configFile)
		if err == nil {
			err = cfg.CheckFiles()
		}
		if err != nil {
			return configProblems(c.Stderr, *configFile, err)
		}
		for _, w := range cfg.Warnings() {
			c.warnf("%s", located(*configFile, w))
		}
		if *listen != "" {
			cfg.Listeners[0].Address = *listen
		}
	} else {
		cfg = config.Default()
		if *dataDir != "" {
			cfg.DataDir = *dataDir
		}
		if *listen != "" {
			cfg.Listeners[0].Address = *listen
		}
		if demo, err = server.Bootstrap(cfg); err != nil {
			return err
		}
	}

	logger := newLogger(c.Stderr, cfg.Log)
	var access *slog.Logger
	if cfg.Log.AccessLog {
		access = newAccessLogger(c.Stdout, cfg.Log)
	}
	opts := server.Options{Logger: logger, AccessLog: access, Now: c.Now}
	if demo != nil {
		opts.Ready = func(addrs []string) { c.printDemo(demo, addrs[0]) }
	}
	srv, err := server.New(ctx, cfg, opts)
	if err != nil && *configFile != "" {
		return configProblems(c.Stderr, *configFile, err) // such as a signer's key its edge does not trust
	}
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// printDemo prints one working signed link to the sample file and the
// command that signs more, on stderr: stdout is the access log's. The link
// is made with the generated key, like any other signed link; the private
// key itself is never printed.
func (c *ServeCommand) printDemo(d *server.Demo, addr string) {
	w := c.Stderr
	url := "http://" + addr + "/" + d.SampleKey
	link, err := demoLink(d, url, c.now().Add(time.Hour))
	if err != nil {
		c.warnf("could not sign the demo link: %v", err)
		return
	}
	fmt.Fprintf(w, "signet: serving %s on http://%s to links signed by key %s\n", d.FilesDir, addr, d.KeyID)
	fmt.Fprintf(w, "signet: a signed link, valid for 1 hour:\n\n  %s\n\n", link)
	fmt.Fprintf(w, "signet: sign more with:\n\n  signet sign --key %s --key-id %s --expires-in 1h http://%s/<file>\n\n", d.PrivateKeyFile, d.KeyID, addr)
}

func demoLink(d *server.Demo, url string, expires time.Time) (string, error) {
	data, err := os.ReadFile(d.PrivateKeyFile)
	if err != nil {
		return "", err
	}
	key, err := cfsign.ParsePrivateKey(data)
	if err != nil {
		return "", err
	}
	s, err := cfsign.NewSigner(d.KeyID, key, cfsign.SHA256)
	if err != nil {
		return "", err
	}
	link, err := s.SignLink(cfsign.LinkRequest{URL: url, Expires: expires})
	return link.URL, err
}

// newLogger builds the operational logger from the log settings.
func newLogger(w io.Writer, l config.Log) *slog.Logger {
	return slog.New(newHandler(w, l.Format, l.SlogLevel()))
}

// newAccessLogger builds the access log: in log.format like the
// operational log, at Info whatever log.level says (log.access_log turns
// it off).
func newAccessLogger(w io.Writer, l config.Log) *slog.Logger {
	return slog.New(newHandler(w, l.Format, slog.LevelInfo))
}

func newHandler(w io.Writer, format string, level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

// configProblems prints every problem of a config, one per line, and
// returns a one-line error for Main.
func configProblems(w io.Writer, file string, err error) error {
	problems := config.Problems(err)
	if len(problems) == 0 {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(w, located(file, p))
	}
	return fmt.Errorf("%s: %d problem(s) in the configuration", file, len(problems))
}
