// Command sumdbcheck reads a cwledger log as an outside client would, with Go's
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (Debian's
// golang-golang-x-mod-dev, built offline with GO111MODULE=off).
//
// Usage: sumdbcheck INPUT.json, where INPUT is
//
//	{"note": "<signed checkpoint>", "vkey": "<log vkey>", "tiles": "<dir>",
//	 "proofs": [{"index": N, "leaf": "<base64 leaf bytes>", "proof": ["<base64 hash>", ...]}]}
//
// and <dir> holds the log's hash tiles under Go's paths (tile/8/<L>/<N>[.p/<W>]).
// It opens the note with the log's key (note.Open), reads the tree size and root from
// its text (tlog-checkpoint: origin, size, base64 root), has tlog.TileHashReader read
// the tiles (which it checks against the signed root) and tlog.TreeHash compute the root,
// then checks every inclusion proof with tlog.CheckRecord and compares it with the
// proof tlog.ProveRecord builds from the tiles. It prints "OK <size> <root hex>" or
// fails with a message and exit status 1.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Note   string `json:"note"`
	Vkey   string `json:"vkey"`
	Tiles  string `json:"tiles"`
	Proofs []struct {
		Index int64    `json:"index"`
		Leaf  string   `json:"leaf"`
		Proof []string `json:"proof"`
	} `json:"proofs"`
}

// dirTiles serves tiles of height 8 from a directory laid out with Go's tile paths.
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(t.Path())))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sumdbcheck: "+format+"\n", args...)
	os.Exit(1)
}

func hashOf(s string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: sumdbcheck INPUT.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail("input: %v", err)
	}
	verifier, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint text: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	tree := tlog.Tree{N: size, Hash: hashOf(lines[2])}
	reader := tlog.TileHashReader(tree, dirTiles{in.Tiles})
	root, err := tlog.TreeHash(tree.N, reader)
	if err != nil {
		fail("tlog.TreeHash: %v", err)
	}
	if root != tree.Hash {
		fail("tlog.TreeHash: %x, the checkpoint signs %x", root[:], tree.Hash[:])
	}
	for _, p := range in.Proofs {
		leaf, err := base64.StdEncoding.DecodeString(p.Leaf)
		if err != nil {
			fail("leaf %d: %v", p.Index, err)
		}
		proof := make(tlog.RecordProof, len(p.Proof))
		for i, h := range p.Proof {
			proof[i] = hashOf(h)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, p.Index, tlog.RecordHash(leaf)); err != nil {
			fail("tlog.CheckRecord of entry %d: %v", p.Index, err)
		}
		built, err := tlog.ProveRecord(tree.N, p.Index, reader)
		if err != nil {
			fail("tlog.ProveRecord of entry %d: %v", p.Index, err)
		}
		if len(built) != len(proof) {
			fail("entry %d: Go's proof has %d hashes, ours %d", p.Index, len(built), len(proof))
		}
		for i := range built {
			if !bytes.Equal(built[i][:], proof[i][:]) {
				fail("entry %d: Go's proof differs at hash %d", p.Index, i)
			}
		}
	}
	fmt.Printf("OK %d %s %d\n", tree.N, hex.EncodeToString(root[:]), len(in.Proofs))
}
