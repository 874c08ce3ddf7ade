package gen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// genFileName is the file dbosgen writes beside each package's sources.
const genFileName = "dbos_gen.go"

// fileAction is what syncFile did, or with check would do, to a generated
// file.
type fileAction int

const (
	// actionNone: the file is up to date, or absent and not needed.
	actionNone fileAction = iota
	// actionWrite: the file was written, or is out of date.
	actionWrite
	// actionRemove: a stale file was removed, or should be.
	actionRemove
	// actionForeign: a file of that name exists that dbosgen did not write.
	actionForeign
)

// syncFile brings the generated file at path in line with src: it writes
// src when it differs, and when src is nil removes a file dbosgen wrote
// earlier. With check it changes nothing and only says what it would do.
// A file dbosgen did not write is never touched.
func syncFile(path string, src []byte, check bool) (fileAction, error) {
	old, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return actionNone, fmt.Errorf("read %s: %w", path, err)
	}
	ours := exists && isGenerated(old)
	switch {
	case exists && !ours:
		if src == nil {
			return actionNone, nil
		}
		return actionForeign, nil
	case src == nil && !exists:
		return actionNone, nil
	case src == nil:
		if !check {
			if err := os.Remove(path); err != nil {
				return actionNone, fmt.Errorf("remove stale %s: %w", path, err)
			}
		}
		return actionRemove, nil
	case exists && bytes.Equal(old, src):
		return actionNone, nil
	}
	if !check {
		if err := os.WriteFile(path, src, 0o666); err != nil {
			return actionNone, fmt.Errorf("write %s: %w", path, err)
		}
	}
	return actionWrite, nil
}

// isGenerated reports whether content is a file dbosgen wrote.
func isGenerated(content []byte) bool {
	return bytes.HasPrefix(content, []byte(generatedHeader+"\n"))
}
