package sshserve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// The legacy scp protocol (scp -O; OpenSSH's scp speaks SFTP by default):
// the client runs "scp -t PATH" to send files here (this side is the
// sink) or "scp -f PATH..." to fetch them (this side is the source). Each
// side answers each line with one byte: 0 for yes, 1 and a line for an
// error that spares the rest, 2 and a line for a fatal one.

// scpCommand is a parsed scp command line.
type scpCommand struct {
	sink, source bool
	recursive    bool
	dirTarget    bool // -d: the target must be a folder
	preserve     bool // -p: files' times go along (T lines)
	paths        []string
}

func parseSCP(args []string) (scpCommand, error) {
	var c scpCommand
	for i, a := range args[1:] {
		if a == "--" {
			c.paths = append(c.paths, args[i+2:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			c.paths = append(c.paths, a)
			continue
		}
		for _, f := range a[1:] {
			switch f {
			case 't':
				c.sink = true
			case 'f':
				c.source = true
			case 'r':
				c.recursive = true
			case 'd':
				c.dirTarget = true
			case 'p':
				c.preserve = true
			case 'v', 'q', 'E':
				// Verbosity is the client's.
			default:
				return c, fmt.Errorf("scp: option -%c is not supported here", f)
			}
		}
	}
	switch {
	case c.sink == c.source:
		return c, errors.New("scp: this is scp's server side: it is run by scp itself (scp -O FILE user@host:PATH)")
	case c.sink && len(c.paths) != 1:
		return c, errors.New("scp: one target path")
	case c.source && len(c.paths) == 0:
		return c, errors.New("scp: no path to send")
	}
	return c, nil
}

// scpSession runs one scp command over the session's client.
type scpSession struct {
	ctx  context.Context
	c    *client.Client
	home string
	in   *bufio.Reader
	out  io.Writer
	// preserve: send files' times (scp -p -f).
	preserve bool
}

// resolve makes a path the client gave absolute: relative ones are in
// the user's home folder.
func (s *scpSession) resolve(p string) string {
	if p == "" || p == "." {
		return s.home
	}
	if !strings.HasPrefix(p, "/") {
		p = path.Join(s.home, p)
	}
	return path.Clean(p)
}

func (s *scpSession) ok() error {
	_, err := s.out.Write([]byte{0})
	return err
}

// warn sends an error that spares the rest of the transfer.
func (s *scpSession) warn(err error) error {
	_, werr := fmt.Fprintf(s.out, "\x01scp: %s\n", oneLine(errMessage(err)))
	return werr
}

// fatal sends an error that ends the transfer.
func (s *scpSession) fatal(err error) {
	_, _ = fmt.Fprintf(s.out, "\x02scp: %s\n", oneLine(errMessage(err)))
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

func errMessage(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return err.Error()
}

// ack reads the other side's answer.
func (s *scpSession) ack() error {
	b, err := s.in.ReadByte()
	if err != nil {
		return err
	}
	if b == 0 {
		return nil
	}
	line, _ := s.in.ReadString('\n')
	msg := strings.TrimSpace(line)
	if b == 1 {
		return &scpWarning{msg}
	}
	return errors.New(msg)
}

type scpWarning struct{ msg string }

func (w *scpWarning) Error() string { return w.msg }

// sink receives files: "scp -t [-r] [-d] PATH".
func (s *scpSession) sink(cmd scpCommand) error {
	target := s.resolve(cmd.paths[0])
	// The target is a folder to copy into if it is one; otherwise the
	// name of the one file or folder sent.
	isDir := false
	switch e, err := s.c.Stat(s.ctx, target); {
	case err == nil:
		isDir = e.IsDir()
	case errors.Is(err, client.ErrForbidden):
		// A target the user may not look at: the writes are allowed or
		// refused each by itself (a refusal then names the write, not
		// the look), into it if the client says it is a folder (-d, or
		// a trailing slash).
		isDir = cmd.dirTarget || strings.HasSuffix(cmd.paths[0], "/")
	case !errors.Is(err, client.ErrNotFound):
		s.fatal(err)
		return err
	}
	if cmd.dirTarget && !isDir {
		err := fmt.Errorf("%s: not a folder", target)
		s.fatal(err)
		return err
	}
	if err := s.ok(); err != nil {
		return err
	}
	var stack []string  // folders being received
	var mtime time.Time // the time the next file takes (a T line)
	where := func(name string) string {
		if len(stack) > 0 {
			return path.Join(stack[len(stack)-1], name)
		}
		if isDir {
			return path.Join(target, name)
		}
		return target
	}
	for {
		line, err := s.in.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			return nil
		}
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			continue
		}
		switch line[0] {
		case 1, 2:
			// The client's own trouble with a file (it says so itself).
			continue
		case 'T':
			// The times of the file or folder that comes next: a
			// file's modification time is kept (a folder's is when
			// it was made; access times are not kept).
			t, err := parseSCPTimes(line)
			if err != nil {
				s.fatal(err)
				return err
			}
			mtime = t
			if err := s.ok(); err != nil {
				return err
			}
		case 'E':
			if len(stack) == 0 {
				err := errors.New("unexpected end of folder")
				s.fatal(err)
				return err
			}
			stack = stack[:len(stack)-1]
			if err := s.ok(); err != nil {
				return err
			}
		case 'C', 'D':
			size, name, err := parseSCPHeader(line)
			if err != nil {
				s.fatal(err)
				return err
			}
			dst := where(name)
			fileTime := mtime
			mtime = time.Time{}
			if line[0] == 'D' {
				if !cmd.recursive {
					err := errors.New("a folder was sent without -r")
					s.fatal(err)
					return err
				}
				if _, err := s.c.Mkdir(s.ctx, dst, true); err != nil {
					s.fatal(fmt.Errorf("%s: %w", dst, err))
					return err
				}
				stack = append(stack, dst)
				if err := s.ok(); err != nil {
					return err
				}
				continue
			}
			if err := s.ok(); err != nil {
				return err
			}
			if err := s.receiveFile(dst, size, fileTime); err != nil {
				return err
			}
		default:
			err := fmt.Errorf("unexpected %q", clipLine(line))
			s.fatal(err)
			return err
		}
	}
}

// receiveFile stores the size bytes that follow as dst, with the file
// time mtime (zero: now), then answers. The upload streams; if the
// content does not all come, nothing is stored.
func (s *scpSession) receiveFile(dst string, size int64, mtime time.Time) error {
	body := io.LimitReader(s.in, size)
	cr := &countingReader{r: body}
	_, perr := s.c.Put(s.ctx, dst, cr, size, client.PutOptions{MTime: mtime})
	if perr != nil {
		// The rest of the content still comes: skip it to stay in step.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
	}
	if cr.n < size && perr == nil {
		return io.ErrUnexpectedEOF
	}
	// The client ends each file's content with a 0 byte.
	if err := s.ack(); err != nil {
		return err
	}
	if perr != nil {
		return s.warn(fmt.Errorf("%s: %w", dst, perr))
	}
	return s.ok()
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// parseSCPHeader reads "C0644 SIZE NAME" or "D0755 0 NAME".
func parseSCPHeader(line string) (int64, string, error) {
	bad := fmt.Errorf("malformed header %q", clipLine(line))
	fields := strings.SplitN(line[1:], " ", 3)
	if len(fields) != 3 || len(fields[0]) != 4 {
		return 0, "", bad
	}
	if _, err := strconv.ParseUint(fields[0], 8, 32); err != nil {
		return 0, "", bad
	}
	size, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || size < 0 {
		return 0, "", bad
	}
	name := fields[2]
	if err := storepath.ValidName(name); err != nil || name == "." || name == ".." || strings.Contains(name, "/") {
		return 0, "", fmt.Errorf("%q is not a file name", clipLine(name))
	}
	return size, name, nil
}

// parseSCPTimes reads "T<mtime> <usec> <atime> <usec>": the
// modification time, to the microsecond.
func parseSCPTimes(line string) (time.Time, error) {
	bad := fmt.Errorf("malformed times %q", clipLine(line))
	fields := strings.Fields(line[1:])
	if len(fields) != 4 {
		return time.Time{}, bad
	}
	var n [4]int64
	for i, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 0 {
			return time.Time{}, bad
		}
		n[i] = v
	}
	if n[1] > 999_999 || n[0] > math.MaxInt64/int64(time.Second)-1 {
		return time.Time{}, bad
	}
	return time.Unix(n[0], n[1]*1000), nil
}

func clipLine(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// source sends files: "scp -f [-r] PATH...".
func (s *scpSession) source(cmd scpCommand) error {
	if err := s.ack(); err != nil { // the client is ready
		return err
	}
	for _, p := range cmd.paths {
		if strings.ContainsAny(p, "*?[") {
			if err := s.warn(fmt.Errorf("%s: no wildcards here: name the file or folder", p)); err != nil {
				return err
			}
			continue
		}
		full := s.resolve(p)
		e, err := s.c.Stat(s.ctx, full)
		if err != nil {
			if err := s.warn(fmt.Errorf("%s: %w", p, err)); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() && !cmd.recursive {
			if err := s.warn(fmt.Errorf("%s: is a folder (use -r)", p)); err != nil {
				return err
			}
			continue
		}
		if e.Name == "" {
			e.Name = path.Base(full)
		}
		if err := s.send(full, e); err != nil {
			return err
		}
	}
	return nil
}

// send sends one file, or a folder and what is in it, page by page.
func (s *scpSession) send(full string, e api.Entry) error {
	name := e.Name
	if name == "" || name == "/" {
		name = "root"
	}
	if s.preserve && !e.ModTime.IsZero() {
		// -p: the times first (access as modification: not kept).
		mt := e.ModTime.Unix()
		if _, err := fmt.Fprintf(s.out, "T%d 0 %d 0\n", mt, mt); err != nil {
			return err
		}
		if err := s.ack(); err != nil {
			return err
		}
	}
	if !e.IsDir() {
		return s.sendFile(full, name, e.Size)
	}
	if _, err := fmt.Fprintf(s.out, "D0755 0 %s\n", name); err != nil {
		return err
	}
	if err := s.ack(); err != nil {
		return err
	}
	cursor := ""
	for {
		pg, err := s.c.List(s.ctx, full, cursor, listPage)
		if err != nil {
			if err := s.warn(fmt.Errorf("%s: %w", full, err)); err != nil {
				return err
			}
			break
		}
		for _, child := range pg.Entries {
			if err := s.send(path.Join(full, child.Name), child); err != nil {
				return err
			}
		}
		if pg.Cursor == "" {
			break
		}
		cursor = pg.Cursor
	}
	if _, err := io.WriteString(s.out, "E\n"); err != nil {
		return err
	}
	return s.ack()
}

// sendFile sends one file's content. Once its header is sent, exactly
// size bytes must follow: a download that fails midway ends the transfer.
func (s *scpSession) sendFile(full, name string, size int64) error {
	d, err := s.c.Get(s.ctx, full, client.GetOptions{})
	if err != nil {
		return s.warn(fmt.Errorf("%s: %w", full, err))
	}
	defer d.Body.Close()
	size = d.Size
	if _, err := fmt.Fprintf(s.out, "C0644 %d %s\n", size, name); err != nil {
		return err
	}
	if err := s.ack(); err != nil {
		var w *scpWarning
		if errors.As(err, &w) {
			return nil // the client cannot take this one
		}
		return err
	}
	n, err := io.Copy(s.out, io.LimitReader(d.Body, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		s.fatal(fmt.Errorf("%s: %w", full, err))
		return err
	}
	if err := s.ok(); err != nil {
		return err
	}
	return s.ack()
}
