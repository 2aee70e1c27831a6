package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a private redis-server for the Redis store's figures:
// the shared one on 6379 serves tests, whose commands would count as
// presence's. It keeps nothing on disk.
type redisServer struct {
	addr   string
	cmd    *exec.Cmd
	client *redis.Client
}

// startRedis starts bin on a free loopback port, with dir as its working
// directory, and waits until it answers.
func startRedis(ctx context.Context, bin, dir string) (*redisServer, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("the Redis store's figures need redis-server (apt-get install redis-server, or -redis-server PATH, or -store memory): %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", dir+"/redis.log", "--maxclients", "10000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	r := &redisServer{addr: addr, cmd: cmd, client: redis.NewClient(&redis.Options{Addr: addr})}
	by := time.Now().Add(startTimeout)
	for r.client.Ping(ctx).Err() != nil {
		if time.Now().After(by) || ctx.Err() != nil {
			r.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer within %s; see %s/redis.log", addr, startTimeout, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r, nil
}

// url is presence's -store for this Redis.
func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// flush empties the database, between servers.
func (r *redisServer) flush(ctx context.Context) error {
	return r.client.FlushAll(ctx).Err()
}

// commands returns how many commands Redis has processed since it
// started.
func (r *redisServer) commands(ctx context.Context) (int64, error) {
	info, err := r.client.Info(ctx, "stats").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO stats has no total_commands_processed")
}

// commandStats returns Redis's counts of calls by command since it
// started.
func (r *redisServer) commandStats(ctx context.Context) (map[string]int64, error) {
	info, err := r.client.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	calls := map[string]int64{}
	for line := range strings.Lines(info) {
		// cmdstat_evalsha:calls=12,usec=...
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		calls[name], _ = strconv.ParseInt(n, 10, 64)
	}
	return calls, nil
}

// scriptCalls returns how many times clients called a script since Redis
// started: total_commands_processed counts each command a script runs
// too, so a script call that runs five is six commands there.
func (r *redisServer) scriptCalls(ctx context.Context) (int64, error) {
	calls, err := r.commandStats(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, cmd := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"} {
		n += calls[cmd]
	}
	return n, nil
}

func (r *redisServer) cpu() (time.Duration, error) { return cpuTime(r.cmd.Process.Pid) }

func (r *redisServer) stop() {
	r.client.Close()
	r.cmd.Process.Kill()
	r.cmd.Wait()
}
