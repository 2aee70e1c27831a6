package main

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// runMainEnv makes the test binary act as the presence command, so that
// tests can check exit statuses and signal handling of a real process.
const runMainEnv = "PRESENCE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Args = append([]string{"presence"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	redis.SetLogger(redisLogger{zap.NewNop()})
	goleak.VerifyTestMain(m)
}
