package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedImports is DESIGN.md's layout, with the load tool and the soak
// beside it: what each package of the module may import of the module. Arrows point down; only cmd imports
// internal/demo, and nothing imports cmd.
var allowedImports = map[string][]string{
	"protocol":       {"internal/jsonscan"},
	"internal/clock": nil,
	// Strict JSON objects, for the frames and the tokens' claims.
	"internal/jsonscan": nil,
	"client":            nil,
	// The client's build, run by go generate; presence never links it.
	"client/internal/bundle": nil,
	"webhook":                {"internal/clock"},
	"session":                {"internal/clock", "internal/jsonscan"},
	"hub":                    {"session", "protocol", "webhook", "internal/clock"},
	"httpapi":                {"hub", "session", "protocol", "client", "internal/clock"},
	"backend":                {"session", "webhook", "internal/clock"},
	"internal/demo":          {"session"},
	"internal/tabtest":       {"protocol"},
	"python":                 nil,
	"cmd/presence-tab":       {"protocol", "session"},
	// The soak drives presence from outside, as an application and its
	// people would: through the backend package, tokens and frames.
	"internal/soak":      {"backend", "session", "protocol", "webhook"},
	"cmd/presence-bench": {"session", "protocol", "internal/soak"},
	"cmd/presence":       {"httpapi", "hub", "session", "protocol", "webhook", "client", "internal/clock", "internal/demo"},
}

func TestPackagesImportOnlyBelowThem(t *testing.T) {
	const module = "github.com/presence-dev/presence/"
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var pkg struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(pkg.ImportPath, module)
		allowed, known := allowedImports[name]
		if !known {
			t.Errorf("package %s is not in the layout; add it to allowedImports and DESIGN.md's table", name)
			continue
		}
		for _, imp := range pkg.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if ours && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which the layout does not allow", name, dep)
			}
		}
	}
}
