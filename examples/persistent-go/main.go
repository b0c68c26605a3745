// Tern persistent-mode handler in Go: the executable itself speaks Tern's line protocol
// (docs/persistent-mode.md). It says {"ready":true} once, then reads one JSON request per stdin line
// and writes one JSON answer per stdout line. Requests are served concurrently, so answers may go out
// in any order; each carries its requestId. Logs go to stderr: stdout belongs to the protocol.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type request struct {
	RequestID string          `json:"requestId"`
	Event     json.RawMessage `json:"event"`
	Context   struct {
		RequestID       string  `json:"requestId"`
		FunctionName    string  `json:"functionName"`
		FunctionVersion string  `json:"functionVersion"`
		MemoryLimitMb   int     `json:"memoryLimitMb"`
		DeadlineMs      int64   `json:"deadlineMs"`
		TraceID         *string `json:"traceId"`
	} `json:"context"`
}

type handlerError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type answer struct {
	RequestID string        `json:"requestId"`
	Output    any           `json:"output,omitempty"`
	Error     *handlerError `json:"error,omitempty"`
}

type event struct {
	Name *string `json:"name"`
	Fail bool    `json:"fail"`
}

// calls lives as long as the process: persistent mode keeps state between calls in one worker.
var calls atomic.Int64

func handle(req *request) (any, error) {
	var ev event
	if len(req.Event) > 0 {
		if err := json.Unmarshal(req.Event, &ev); err != nil {
			return nil, err
		}
	}
	if ev.Fail {
		return nil, errors.New("boom: requested failure")
	}
	name := "world"
	if ev.Name != nil {
		name = *ev.Name
	}
	remaining := time.Until(time.UnixMilli(req.Context.DeadlineMs))
	fmt.Fprintf(os.Stderr, "greeting %s (%d ms left)\n", name, remaining.Milliseconds())
	return map[string]any{
		"message":   fmt.Sprintf("Hello, %s!", name),
		"runtime":   "go",
		"requestId": req.Context.RequestID,
		"calls":     calls.Add(1),
	}, nil
}

func main() {
	out := json.NewEncoder(os.Stdout) // Encode writes one line per value
	out.SetEscapeHTML(false)
	var mu sync.Mutex
	send := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		if err := out.Encode(v); err != nil {
			fmt.Fprintf(os.Stderr, "cannot write an answer: %v\n", err)
			os.Exit(1)
		}
	}

	send(map[string]bool{"ready": true})
	in := bufio.NewReaderSize(os.Stdin, 64*1024)
	for {
		line, err := in.ReadBytes('\n') // no line-length limit: events can be megabytes
		if len(line) > 1 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintf(os.Stderr, "bad request line: %v\n", jerr)
			} else {
				go func() {
					output, herr := handle(&req)
					if herr != nil {
						send(answer{RequestID: req.RequestID, Error: &handlerError{Type: "error", Message: herr.Error()}})
						return
					}
					send(answer{RequestID: req.RequestID, Output: output})
				}()
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "reading stdin: %v\n", err)
			os.Exit(1)
		}
	}
}
