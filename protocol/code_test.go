package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// codeConstants returns the value of every Code* constant in code.go.
func codeConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "code.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				codes[name.Name] = v
			}
		}
	}
	return codes
}

// Every code a client can see is listed once in docs/protocol.md's table, and
// the table lists nothing else; codes are distinct snake_case strings.
func TestCodesAreDocumentedOnce(t *testing.T) {
	codes := codeConstants(t)
	if len(codes) < 20 {
		t.Fatalf("found %d Code constants in code.go; the parse is wrong", len(codes))
	}
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\|")
	listed := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		listed[m[1]]++
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[string]string{}
	for name, v := range codes {
		if !snake.MatchString(v) {
			t.Errorf("%s = %q is not snake_case", name, v)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s are both %q", name, other, v)
		}
		seen[v] = name
		if n := listed[v]; n != 1 {
			t.Errorf("%s (%q) is in docs/protocol.md's code table %d times, want once", name, v, n)
		}
	}
	for v := range listed {
		if _, ok := seen[v]; !ok && strings.Contains(v, "_") {
			t.Errorf("docs/protocol.md lists code %q, which protocol does not define", v)
		}
	}
	inCodes := map[string]bool{}
	for _, c := range Codes {
		inCodes[c] = true
	}
	for name, v := range codes {
		if !inCodes[v] {
			t.Errorf("Codes lacks %s (%q)", name, v)
		}
	}
	if len(Codes) != len(codes) {
		t.Errorf("Codes has %d entries, code.go defines %d", len(Codes), len(codes))
	}
}
