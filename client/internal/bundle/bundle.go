// Package bundle builds presence's browser client from the ES modules in
// client/src with esbuild's Go API: presence.js (an IIFE for a script
// tag), presence.mjs (an ES module), presence-share.mjs (the module
// that the shareSocket option loads), a source map beside each, and
// presence.css, all minified.
//
// Use Build to get the files in memory: go generate ./client/ writes them
// into client/, where presence embeds them, and a test of package client
// builds them again and fails when the committed files are stale. The
// output depends on the sources alone: no absolute path or time goes in,
// and the maps name their sources relative to client/.
package bundle

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/evanw/esbuild/pkg/api"
)

// Names are the files Build returns, in the order go generate writes them.
var Names = []string{"presence.js", "presence.js.map", "presence.mjs", "presence.mjs.map", "presence-share.mjs", "presence-share.mjs.map", "presence.css"}

// Build builds the client from dir/src, where dir is the client folder,
// and returns the files by name.
func Build(dir string) (map[string][]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, b := range []struct {
		entry, out string
		format     api.Format
	}{
		{"src/script.js", "presence.js", api.FormatIIFE},
		{"src/module.js", "presence.mjs", api.FormatESModule},
		{"src/share.js", "presence-share.mjs", api.FormatESModule},
		{"src/presence.css", "presence.css", api.FormatDefault},
	} {
		opts := api.BuildOptions{
			AbsWorkingDir:     abs,
			EntryPoints:       []string{b.entry},
			Outfile:           b.out,
			Format:            b.format,
			Bundle:            true,
			Platform:          api.PlatformBrowser,
			Target:            api.ES2020,
			MinifyWhitespace:  true,
			MinifyIdentifiers: true,
			MinifySyntax:      true,
			LegalComments:     api.LegalCommentsNone,
			LogLevel:          api.LogLevelSilent,
		}
		if b.format == api.FormatIIFE {
			// The modules are strict by being modules; the script keeps
			// them so.
			opts.Banner = map[string]string{"js": `"use strict";`}
		}
		switch b.format {
		case api.FormatIIFE:
			// Every page pays for presence.js: its map is named by the
			// SourceMap header presence serves it with, not a comment.
			opts.Sourcemap = api.SourceMapExternal
			opts.SourcesContent = api.SourcesContentInclude
		case api.FormatESModule:
			opts.Sourcemap = api.SourceMapLinked
			opts.SourcesContent = api.SourcesContentInclude
		}
		res := api.Build(opts)
		if len(res.Errors) > 0 {
			return nil, buildError(b.entry, res.Errors)
		}
		for _, f := range res.OutputFiles {
			files[filepath.Base(f.Path)] = f.Contents
		}
	}
	for _, name := range Names {
		if files[name] == nil {
			return nil, fmt.Errorf("bundle: esbuild wrote no %s", name)
		}
	}
	return files, nil
}

func buildError(entry string, msgs []api.Message) error {
	var errs []error
	for _, m := range msgs {
		where := entry
		if m.Location != nil {
			where = fmt.Sprintf("%s:%d:%d", m.Location.File, m.Location.Line, m.Location.Column)
		}
		errs = append(errs, fmt.Errorf("%s: %s", where, m.Text))
	}
	return fmt.Errorf("bundle: build %s: %w", entry, errors.Join(errs...))
}
