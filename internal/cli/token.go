package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/state/sqlite"
)

var tokenPage = &page{
	summary: "manage the signing API's bearer tokens",
	about: `Manages the bearer tokens of the signing API. Only a hash of each token is
stored; create prints the secret once, on stdout. The commands work while
signet serve runs: it sees changes within a second.

Each takes the state database as --config FILE (the serve config: tokens live
in <data_dir>/signet.db, and create checks scopes against its distributions)
or --db FILE (the database itself). Only create makes a missing database; the
others refuse it.`,
	examples: []string{
		"token create --config signet.yaml --name reports --scope media:reports/ --max-lifetime 1h",
		"token list --config signet.yaml",
		"token revoke 3f9a0c1d2b4e5f60 --config signet.yaml",
		"token export --db data/signet.db > tokens.json",
	},
}

var tokenPages = map[string]*page{
	"create": {
		summary: "make a token and print its secret, once",
		usage: []string{"token create --name NAME --scope DIST:PREFIX[,PREFIX...] [--scope ...]",
			"    [--max-lifetime DURATION] [--rate N] [--burst N] (--config FILE | --db FILE)"},
		about: `Makes a token for the signing API and prints its secret on stdout, once: only
its hash is stored. With --config, each scope must name a distribution that
has a signer. Creates the state database (mode 0600) if it is missing.`,
		examples: []string{
			"token create --config signet.yaml --name reports --scope media:reports/ --max-lifetime 1h",
			"token create --db data/signet.db --name ci --scope 'media:builds/,nightly/' --rate 5 --burst 10",
		},
	},
	"list": {
		summary: "list the tokens (never their secrets or hashes)",
		usage:   []string{"token list [--json] (--config FILE | --db FILE)"},
		about:   "Lists the tokens of the state database, revoked ones included, without secrets or hashes.",
		examples: []string{
			"token list --config signet.yaml",
			"token list --db data/signet.db --json",
		},
	},
	"revoke": {
		summary:  "revoke a token by its id",
		usage:    []string{"token revoke ID (--config FILE | --db FILE)"},
		about:    "Revokes the token with this id (the id token list shows); signet serve refuses it within a second.",
		operand:  "ID",
		examples: []string{"token revoke 3f9a0c1d2b4e5f60 --config signet.yaml"},
	},
	"export": {
		summary: "print the active tokens' records as JSON, for signet-lambda",
		usage:   []string{"token export (--config FILE | --db FILE)"},
		about: `Prints the active tokens' records (SHA-256 hashes, never secrets) as JSON,
for deployments without a state database such as signet-lambda (SIGNET_TOKENS).`,
		examples: []string{"token export --db data/signet.db > tokens.json"},
	},
}

// TokenCommand runs one of "signet token create|list|revoke|export".
type TokenCommand struct {
	Env
	sub string
}

// tokenJSON is a token in token list --json.
type tokenJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Scopes      []signapi.Scope `json:"scopes"`
	MaxLifetime jsonDuration    `json:"max_lifetime,omitzero"`
	Rate        signapi.Rate    `json:"rate"`
	CreatedAt   jsonTime        `json:"created_at"`
	RevokedAt   jsonTime        `json:"revoked_at,omitzero"`
}

// Run runs the subcommand.
func (c *TokenCommand) Run(ctx context.Context, args []string) error {
	switch c.sub {
	case "create":
		return c.create(args)
	case "list":
		return c.list(args)
	case "revoke":
		return c.revoke(args)
	}
	return c.export(args)
}

// create makes a token and prints its secret.
func (c *TokenCommand) create(args []string) error {
	flags := newFlagSet("token create")
	var scopes listFlag
	name := flags.String("name", "", "what the token is for, a `NAME`")
	flags.Var(&scopes, "scope", "the distribution it may sign for and the object-key prefixes under it, `DIST:PREFIXES` comma-separated (\"media:reports/,videos/x/\"); \"media:\" is the whole distribution. Repeatable.")
	maxLife := flags.String("max-lifetime", "", "cap on the lifetime of the links it signs, a `DURATION` (90s, 15m, 12h, 30d)")
	rate := flags.Float64("rate", 0, "requests per second on average, `N` (default: no limit)")
	burst := flags.Int("burst", 0, "requests at once, `N`, with --rate")
	_, file, cfg, err := c.parse(flags, args, 0)
	if err != nil {
		return err
	}
	// Check the flags before the file is created or opened.
	sc, err := parseScopes(scopes, cfg)
	if err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	var life time.Duration
	if *maxLife != "" {
		if life, err = parseDuration(*maxLife); err != nil {
			return fmt.Errorf("--max-lifetime: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("create the state database's directory: %w", err)
	}
	store, closeStore, err := c.open(file)
	if err != nil {
		return err
	}
	defer closeStore()
	tok, secret, err := store.Create(*name, sc, life, signapi.Rate{PerSecond: *rate, Burst: *burst})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, secret)
	fmt.Fprintf(c.Stderr, "signet: token %s (%s) created in %s; the secret above is shown only now\n", tok.ID, tok.Name, file)
	return nil
}

// list prints the tokens as a table or, with --json, as JSON.
func (c *TokenCommand) list(args []string) error {
	flags := newFlagSet("token list")
	asJSON := flags.Bool("json", false, `print [{"id", "name", "scopes", "max_lifetime", "rate", "created_at", "revoked_at"}]`)
	return c.withStore(flags, args, 0, func(store *signapi.TokenStore, _ []string) error {
		toks, err := store.List()
		if err != nil {
			return err
		}
		if *asJSON {
			out := []tokenJSON{}
			for _, t := range toks {
				out = append(out, tokenJSON{ID: t.ID, Name: t.Name, Scopes: t.Scopes, MaxLifetime: jsonDuration(t.MaxLifetime),
					Rate: t.Rate, CreatedAt: jsonTime(t.CreatedAt), RevokedAt: jsonTime(t.RevokedAt)})
			}
			return writeJSON(c.Stdout, out)
		}
		return writeTokens(c.Stdout, toks)
	})
}

// writeTokens writes the table of token list.
func writeTokens(w io.Writer, toks []signapi.Token) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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

// revoke revokes the token whose id is the one argument.
func (c *TokenCommand) revoke(args []string) error {
	return c.withStore(newFlagSet("token revoke"), args, 1, func(store *signapi.TokenStore, pos []string) error {
		if err := store.Revoke(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stderr, "signet: token %s revoked\n", pos[0])
		return nil
	})
}

// export prints the active tokens' records as JSON.
func (c *TokenCommand) export(args []string) error {
	return c.withStore(newFlagSet("token export"), args, 0, func(store *signapi.TokenStore, _ []string) error {
		recs, err := store.Export()
		if err != nil {
			return err
		}
		if recs == nil {
			recs = []signapi.TokenRecord{}
		}
		return writeJSON(c.Stdout, recs)
	})
}

// parse adds the --config and --db flags every subcommand takes to flags,
// parses args, which must hold want operands, and returns the operands, the
// state database and, with --config, the config.
func (c *TokenCommand) parse(flags *flagSet, args []string, want int) ([]string, string, *config.Config, error) {
	cfgFile := flags.String("config", "", "the serve config `FILE`: tokens live in <data_dir>/signet.db")
	tokensFile := flags.String("db", "", "the state database `FILE` itself")
	pos, err := parseArgs(flags, tokenPages[c.sub], &c.Env, args)
	if err != nil {
		return nil, "", nil, err
	}
	if (*cfgFile == "") == (*tokensFile == "") {
		return nil, "", nil, fmt.Errorf("give one of --config FILE and --db FILE (see 'signet token %s -h')", c.sub)
	}
	if len(pos) != want {
		if want == 0 {
			return nil, "", nil, fmt.Errorf("unexpected argument %q (see 'signet token %s -h')", pos[0], c.sub)
		}
		return nil, "", nil, fmt.Errorf("expected one ID, got %d arguments (see 'signet token %s -h')", len(pos), c.sub)
	}
	if *cfgFile == "" {
		return pos, *tokensFile, nil, nil
	}
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		return nil, "", nil, configProblems(c.Stderr, *cfgFile, err)
	}
	return pos, cfg.StateFile(), cfg, nil
}

// withStore parses args as parse does, opens the state database, which must
// exist, runs run with the store and the operands, and closes the store.
// (Opening a missing file would create an empty one: a typo in the path
// would then list nothing, or revoke into a file nobody reads.)
func (c *TokenCommand) withStore(flags *flagSet, args []string, want int, run func(*signapi.TokenStore, []string) error) error {
	pos, file, _, err := c.parse(flags, args, want)
	if err != nil {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("state database %s does not exist (signet token create makes it)", file)
		}
		return err
	}
	store, closeStore, err := c.open(file)
	if err != nil {
		return err
	}
	defer closeStore()
	return run(store, pos)
}

// open opens the state database at file, creating it if it is missing,
// and the token store on it; closeStore closes both.
func (c *TokenCommand) open(file string) (store *signapi.TokenStore, closeStore func(), err error) {
	st, err := sqlite.Open(context.Background(), file)
	if err != nil {
		return nil, nil, err
	}
	store, err = signapi.NewTokenStore(st, signapi.StoreOptions{Now: c.Now})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return store, func() { store.Close(); st.Close() }, nil
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
