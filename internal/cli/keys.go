package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

const keysUsage = `usage: signet keys status [--admin URL] [--json]

Show how each trusted key pair id is used by a running signet serve: the key
groups and behaviors that trust it, how many requests it allowed and had
denied since start, and when it last opened something. Use it during a key
rotation to see when an old key's traffic has stopped (see
docs/key-rotation.md).

Flags:
  --admin URL   the admin listener of signet serve (default http://127.0.0.1:9090)
  --json        print the admin endpoint's JSON as it is
`

// KeysCommand runs "signet keys".
type KeysCommand struct{ Env }

// keyStatus mirrors the /keys answer of the admin listener.
type keyStatus struct {
	KeyID     string     `json:"key_id"`
	Groups    []string   `json:"groups"`
	Behaviors []string   `json:"behaviors"`
	Allowed   int64      `json:"allowed"`
	Denied    int64      `json:"denied"`
	LastSeen  *time.Time `json:"last_seen"`
}

// Run dispatches the keys subcommands.
func (c *KeysCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stdout, keysUsage)
		if len(args) == 0 {
			return errors.New("expected a subcommand: status (see 'signet keys -h')")
		}
		return flag.ErrHelp
	}
	if args[0] != "status" {
		return fmt.Errorf("unknown subcommand %q: status (see 'signet keys -h')", args[0])
	}
	flags := newFlagSet("keys status")
	admin := flags.String("admin", "http://127.0.0.1:9090", "admin listener URL")
	asJSON := flags.Bool("json", false, "print JSON")
	pos, err := parseArgs(flags, keysUsage, c.Stdout, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (see 'signet keys -h')", pos[0])
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*admin, "/")+"/keys", nil)
	if err != nil {
		return fmt.Errorf("--admin: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the admin listener: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read /keys: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/keys answered %s", *admin, resp.Status)
	}
	if *asJSON {
		_, err := c.Stdout.Write(body)
		return err
	}
	var out struct {
		Keys []keyStatus `json:"keys"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("decode /keys: %w", err)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tGROUPS\tALLOWED\tDENIED\tLAST SEEN")
	now := c.now()
	for _, k := range out.Keys {
		seen := "never (since start)"
		if k.LastSeen != nil {
			seen = k.LastSeen.Format(time.RFC3339) + " (" + relative(*k.LastSeen, now) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", k.KeyID, strings.Join(k.Groups, ","), k.Allowed, k.Denied, seen)
	}
	return tw.Flush()
}
