# Thin wrappers over go commands; the README's commands work without make.
.PHONY: build test serve vet bench fuzz

build:
	go build -o bulwark ./cmd/bulwark

test:
	go test -count=1 -timeout 25m ./...

serve:
	go run ./cmd/bulwark serve

vet:
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	bash bench/import.sh

fuzz:
	bash bench/fuzz.sh
