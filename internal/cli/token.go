package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/server"
	"github.com/signet-dev/signet/internal/signapi"
)

const tokenUsage = `usage: signet token create --name NAME --scope DIST:PREFIX[,PREFIX...] [--scope ...]
                           [--max-lifetime DURATION] [--rate N] [--burst N] (--config FILE | --tokens FILE)
       signet token list   [--json] (--config FILE | --tokens FILE)
       signet token revoke ID (--config FILE | --tokens FILE)
       signet token export (--config FILE | --tokens FILE)

Manage the bearer tokens of the signing API. Only a hash of each token is
stored; create prints the secret once, on stdout. The commands work while
signet serve runs: it sees changes within a second.

  --config FILE       the serve config: tokens live in signing_api.tokens_file
                      (default <data_dir>/tokens.db), and scopes are checked
                      against its distributions
  --tokens FILE       the token file itself
  --name NAME         what the token is for
  --scope DIST:PREFIXES  the distribution it may sign for and the object-key
                      prefixes under it, comma-separated ("media:reports/,videos/x/");
                      "media:" is the whole distribution. Repeatable.
  --max-lifetime D    cap on the lifetime of the links it signs (90s, 15m, 12h, 30d)
  --rate N --burst N  requests per second on average, and at once (default: no limit)
  --json              list: print JSON

export prints the active tokens' records (hashes, never secrets) as JSON, for
deployments without a token file such as signet-lambda (SIGNET_TOKENS).
`

// TokenCommand runs "signet token".
type TokenCommand struct{ Env }

// Run dispatches the token subcommands.
func (c *TokenCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stdout, tokenUsage)
		if len(args) == 0 {
			return errors.New("expected a subcommand: create, list, revoke or export (see 'signet token -h')")
		}
		return flag.ErrHelp
	}
	sub := args[0]
	flags := newFlagSet("token " + sub)
	cfgFile := flags.String("config", "", "serve config")
	tokensFile := flags.String("tokens", "", "token file")
	var (
		name, maxLife string
		scopes        listFlag
		rate          float64
		burst         int
		asJSON        bool
	)
	switch sub {
	case "create":
		flags.StringVar(&name, "name", "", "what the token is for")
		flags.Var(&scopes, "scope", "DIST:PREFIX[,PREFIX...]")
		flags.StringVar(&maxLife, "max-lifetime", "", "link lifetime cap")
		flags.Float64Var(&rate, "rate", 0, "requests per second")
		flags.IntVar(&burst, "burst", 0, "requests at once")
	case "list":
		flags.BoolVar(&asJSON, "json", false, "print JSON")
	case "revoke", "export":
	default:
		return fmt.Errorf("unknown subcommand %q: create, list, revoke or export (see 'signet token -h')", sub)
	}
	pos, err := parseArgs(flags, tokenUsage, c.Stdout, args[1:])
	if err != nil {
		return err
	}
	if (*cfgFile == "") == (*tokensFile == "") {
		return errors.New("give one of --config FILE and --tokens FILE")
	}
	file, cfg := *tokensFile, (*config.Config)(nil)
	if *cfgFile != "" {
		if cfg, err = config.Load(*cfgFile); err != nil {
			return configProblems(c.Stderr, *cfgFile, err)
		}
		file = server.TokensFile(cfg)
	}
	if want := map[string]int{"create": 0, "list": 0, "export": 0, "revoke": 1}[sub]; len(pos) != want {
		return fmt.Errorf("expected %d argument(s), got %d (see 'signet token -h')", want, len(pos))
	}
	if sub == "create" {
		// Check the flags before the file is created or opened.
		sc, err := parseScopes(scopes, cfg)
		if err != nil {
			return err
		}
		if name == "" {
			return errors.New("--name is required")
		}
		var life time.Duration
		if maxLife != "" {
			if life, err = parseDuration(maxLife); err != nil {
				return fmt.Errorf("--max-lifetime: %w", err)
			}
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return fmt.Errorf("create the token file's directory: %w", err)
		}
		store, err := signapi.OpenTokenStore(file, signapi.TokenOptions{Now: c.Now})
		if err != nil {
			return err
		}
		defer store.Close()
		tok, secret, err := store.Create(name, sc, life, signapi.Rate{PerSecond: rate, Burst: burst})
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Stdout, secret)
		fmt.Fprintf(c.Stderr, "signet: token %s (%s) created in %s; the secret above is shown only now\n", tok.ID, tok.Name, file)
		return nil
	}
	store, err := signapi.OpenTokenStore(file, signapi.TokenOptions{Now: c.Now})
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "revoke":
		if err := store.Revoke(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stderr, "signet: token %s revoked\n", pos[0])
		return nil
	case "export":
		recs, err := store.Export()
		if err != nil {
			return err
		}
		return writeJSON(c.Stdout, recs)
	}
	toks, err := store.List()
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.Stdout, toks)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tMAX LIFETIME\tRATE\tCREATED\tREVOKED")
	for _, t := range toks {
		life, rate, revoked := "-", "-", "-"
		if t.MaxLifetime > 0 {
			life = t.MaxLifetime.String()
		}
		if t.Rate.PerSecond > 0 {
			rate = strconv.FormatFloat(t.Rate.PerSecond, 'f', -1, 64) + "/s burst " + strconv.Itoa(t.Rate.Burst)
		}
		if !t.RevokedAt.IsZero() {
			revoked = t.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, formatScopes(t.Scopes), life, rate,
			t.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

// parseScopes reads --scope values, DIST:PREFIX[,PREFIX...]; with a config,
// each distribution must exist there and have a signer.
func parseScopes(values []string, cfg *config.Config) ([]signapi.Scope, error) {
	if len(values) == 0 {
		return nil, errors.New("at least one --scope DIST:PREFIX is required")
	}
	var out []signapi.Scope
	for _, v := range values {
		dist, list, ok := strings.Cut(v, ":")
		if !ok || dist == "" {
			return nil, fmt.Errorf("--scope %q is not DIST:PREFIX[,PREFIX...] (\"media:\" for the whole distribution)", v)
		}
		if cfg != nil && !slices.ContainsFunc(cfg.Distributions, func(d config.Distribution) bool { return d.Name == dist && d.Signer != nil }) {
			return nil, fmt.Errorf("--scope %q: the config has no distribution %q with a signer", v, dist)
		}
		sc := signapi.Scope{Distribution: dist, Prefixes: strings.Split(list, ",")}
		out = append(out, sc)
	}
	return out, nil
}

func formatScopes(scopes []signapi.Scope) string {
	var parts []string
	for _, s := range scopes {
		parts = append(parts, s.Distribution+":"+strings.Join(s.Prefixes, ","))
	}
	return strings.Join(parts, " ")
}
