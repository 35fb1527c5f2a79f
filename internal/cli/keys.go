package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/server"
)

var keysPage = &page{
	summary: "show the use of each trusted key id (for key rotation)",
	about: `Shows how each trusted key pair id is used by a running signet serve: the key
groups and behaviors that trust it, how many requests it allowed and had
denied since start, and when it last opened something. Use it during a key
rotation to see when an old key's traffic has stopped (see
docs/key-rotation.md).`,
	examples: []string{"keys status", "keys status --admin 127.0.0.1:9090 --json"},
}

var keysStatusPage = &page{
	summary: "print each trusted key id's groups, requests allowed and denied, and last use",
	usage:   []string{"keys status [--admin HOST:PORT] [--json]"},
	about: `Reads /keys from the admin listener of a running signet serve and prints one
line per trusted key id: its key groups, the requests it allowed and had
denied since start, and when it last allowed one.`,
	examples: []string{
		"keys status",
		"keys status --admin 10.0.0.5:9090",
		"keys status --admin https://edge.example.com:9443 --json",
	},
}

// KeysCommand runs "signet keys status".
type KeysCommand struct{ Env }

// keysOutput is the --json form of keys status: the admin listener's
// answer, with times in the format of every --json output.
type keysOutput struct {
	Keys []keyStatus `json:"keys"`
}

type keyStatus struct {
	KeyID     string    `json:"key_id"`
	Groups    []string  `json:"groups"`
	Behaviors []string  `json:"behaviors"`
	Allowed   int64     `json:"allowed"`
	Denied    int64     `json:"denied"`
	LastSeen  *jsonTime `json:"last_seen"` // null: not since start
}

// Run prints the status.
func (c *KeysCommand) Run(ctx context.Context, args []string) error {
	flags := newFlagSet("keys status")
	admin := flags.String("admin", "127.0.0.1:9090", "the admin listener of signet serve: `HOST:PORT` as admin.address in its config, or a URL (http://, https://)")
	asJSON := flags.Bool("json", false, `print {"keys": [{"key_id", "groups", "behaviors", "allowed", "denied", "last_seen"}]}`)
	if err := parseNoArgs(flags, keysStatusPage, &c.Env, args); err != nil {
		return err
	}
	base, err := adminURL(*admin)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/keys", nil)
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
		return fmt.Errorf("%s/keys answered %s", base, resp.Status)
	}
	var in struct {
		Keys []server.KeyStatus `json:"keys"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("decode /keys: %w", err)
	}
	if *asJSON {
		out := keysOutput{Keys: []keyStatus{}}
		for _, k := range in.Keys {
			ks := keyStatus{KeyID: k.KeyID, Groups: k.Groups, Behaviors: k.Behaviors, Allowed: k.Allowed, Denied: k.Denied}
			if k.LastSeen != nil {
				ks.LastSeen = (*jsonTime)(k.LastSeen)
			}
			out.Keys = append(out.Keys, ks)
		}
		return writeJSON(c.Stdout, out)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tGROUPS\tALLOWED\tDENIED\tLAST SEEN")
	now := c.now()
	for _, k := range in.Keys {
		seen := "never (since start)"
		if k.LastSeen != nil {
			seen = timeAndRelative(*k.LastSeen, now)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", k.KeyID, strings.Join(k.Groups, ","), k.Allowed, k.Denied, seen)
	}
	return tw.Flush()
}

// adminURL turns --admin into the listener's base URL. HOST:PORT is the
// form of admin.address in the config; a wildcard host (":9090",
// "0.0.0.0:9090", "[::]:9090") is reached on loopback. A URL is taken as
// it is, for a listener behind a proxy or TLS.
func adminURL(s string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--admin %q is not HOST:PORT or an http:// or https:// URL", s)
		}
		return strings.TrimSuffix(s, "/"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return "", fmt.Errorf("--admin %q is not HOST:PORT (as admin.address in the config) or a URL", s)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
