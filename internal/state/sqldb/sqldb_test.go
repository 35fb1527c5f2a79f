package sqldb

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/signet-dev/signet/internal/state"
)

func TestMigrationsParse(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	migs, err := Migrations(fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a_1.sql": file("A")}, "m")
	if err != nil || len(migs) != 2 || migs[0] != (Migration{1, "a_1", "A"}) || migs[1] != (Migration{2, "b", "B"}) {
		t.Errorf("Migrations = %+v, %v", migs, err)
	}
	for _, c := range []struct {
		fsys fstest.MapFS
		want string
	}{
		{fstest.MapFS{"m/0001_a.sql": file(""), "m/0003_c.sql": file("")}, "m/0003_c.sql has version 3, want 2"},
		{fstest.MapFS{"m/0002_a.sql": file("")}, "m/0002_a.sql has version 2, want 1"},
		{fstest.MapFS{"m/0001_a.sql": file(""), "m/notes.txt": file("")}, "m/notes.txt is not a file named NNNN_name.sql"},
		{fstest.MapFS{"m/0001_A.sql": file("")}, "m/0001_A.sql is not"},
		{fstest.MapFS{"m/01_a.sql": file("")}, "m/01_a.sql is not"},
		{fstest.MapFS{"m/0001_a.sql/x.sql": file("")}, "m/0001_a.sql is not"},
		{fstest.MapFS{"other/0001_a.sql": file("")}, "migrations: open m"},
	} {
		if _, err := Migrations(c.fsys, "m"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.fsys, err, c.want)
		}
	}
}

// TestEmbeddedMigrations checks that both dialects' files parse and come
// in step: the same versions and names.
func TestEmbeddedMigrations(t *testing.T) {
	lite, err := Migrations(state.Migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Migrations(state.Migrations, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("%d sqlite and %d postgres migrations", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("version %d: sqlite %s, postgres %s", i+1, lite[i].Name, pg[i].Name)
		}
	}
}

func TestRebind(t *testing.T) {
	pg := NewDialect(true, "", "TIMESTAMPTZ", nil)
	lite := NewDialect(false, "", "TIMESTAMP", nil)
	q := "UPDATE t SET a = ? WHERE b = ? AND c = ?"
	if got := pg.rebind(q); got != "UPDATE t SET a = $1 WHERE b = $2 AND c = $3" {
		t.Errorf("postgres: %s", got)
	}
	if got := lite.rebind(q); got != q {
		t.Errorf("sqlite: %s", got)
	}
}
