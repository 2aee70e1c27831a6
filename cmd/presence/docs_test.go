package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// docs/configuration.md's table lists every setting once, with its
// variable, and nothing presence does not read.
func TestConfigurationDocListsEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `-([a-z-]+)` \\| *(?:`(PRESENCE_[A-Z_]+)`)? *\\|")
	listed := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		listed[m[1]] = append(listed[m[1]], m[2])
	}
	want := map[string]string{"demo": ""}
	for _, s := range settings {
		want[s.flag] = s.env
	}
	for flag, env := range want {
		switch envs := listed[flag]; {
		case len(envs) == 0:
			t.Errorf("-%s is missing from docs/configuration.md's table", flag)
		case len(envs) > 1:
			t.Errorf("-%s is in docs/configuration.md's table %d times, want once", flag, len(envs))
		case envs[0] != env:
			t.Errorf("docs/configuration.md gives -%s the variable %q, want %q", flag, envs[0], env)
		}
	}
	for flag := range listed {
		if _, ok := want[flag]; !ok {
			t.Errorf("docs/configuration.md lists -%s, which presence does not read", flag)
		}
	}
}

// Every link between the README and the documents in docs/ leads to a
// file that exists and, with a #fragment, to one of its headings.
func TestDocLinksResolve(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, fragment, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s links to %s, which does not exist", filepath.Base(file), target)
				continue
			}
			if fragment == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			body, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			if !headingAnchors(string(body))[fragment] {
				t.Errorf("%s links to %s, but %s has no such heading", filepath.Base(file), target, filepath.Base(dest))
			}
		}
	}
}

// headingAnchors are the fragments GitHub gives a Markdown file's
// headings: lower case, spaces as hyphens, punctuation dropped, and -1,
// -2 after repeats.
func headingAnchors(markdown string) map[string]bool {
	anchors := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var slug strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				slug.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				slug.WriteRune(r)
			}
		}
		anchor := slug.String()
		for n := 1; anchors[anchor]; n++ {
			anchor = fmt.Sprintf("%s-%d", slug.String(), n)
		}
		anchors[anchor] = true
	}
	return anchors
}
