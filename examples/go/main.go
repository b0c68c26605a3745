package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

type event struct {
	Name *string `json:"name"`
	Fail bool    `json:"fail"`
}

type result struct {
	Message string `json:"message"`
	Runtime string `json:"runtime"`
}

func handle(ev event) (result, error) {
	if ev.Fail {
		return result{}, errors.New("requested failure")
	}
	name := "world"
	if ev.Name != nil {
		name = *ev.Name
	}
	return result{Message: fmt.Sprintf("Hello, %s!", name), Runtime: "go"}, nil
}

func run() error {
	if len(os.Args) < 2 {
		return errors.New("usage: bootstrap EVENT_FILE")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil {
		return err
	}
	res, err := handle(ev)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "boom: %v\n", err)
		os.Exit(1)
	}
}
