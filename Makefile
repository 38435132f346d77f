# Vidline developer entry points. The logic lives in scripts/ (see the header of each script).
# State (databases, broker, logs, storage) lives in $(VIDLINE_STATE), default .run/ (git-ignored).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help run run-detached up stop status errors requeue key keys revoke-key test bench clean clean-state

help:
	@echo "make run           start everything and follow the logs (Ctrl-C stops what it started)"
	@echo "                   more processes of a stage: make run TRANSCODERS=3 VALIDATORS=2 (PACKAGERS=2)"
	@echo "make run-detached  start everything in the background (alias: make up)"
	@echo "make stop          stop services, edge, RabbitMQ and PostgreSQL"
	@echo "make status        what is running"
	@echo "make errors        every _error queue holding messages, with the first one's reason"
	@echo "make requeue QUEUE=video-job_error   move a _error queue's messages back to their queue (docs/reliability.md)"
	@echo "make key TENANT=acme           a new API key for tenant acme, printed once (only its hash is stored)"
	@echo "make keys          every API key: tenant, prefix, created, revoked"
	@echo "make revoke-key KEY=vl_abcdefg  revoke the key with that prefix (as make keys lists it)"
	@echo "make test          start RabbitMQ + PostgreSQL if needed, dotnet test"
	@echo "make bench         run bench/run.sh"
	@echo "make clean         dotnet clean, test results; make clean-state also wipes .run/"

run:
	@bash scripts/stack.sh run

run-detached up:
	@bash scripts/stack.sh up

stop:
	@bash scripts/stack.sh stop

status:
	@bash scripts/infra.sh status

errors:
	@bash scripts/queues.sh errors

requeue:
	@bash scripts/queues.sh requeue "$(QUEUE)"

key:
	@bash scripts/keys.sh create "$(TENANT)"

keys:
	@bash scripts/keys.sh list

revoke-key:
	@bash scripts/keys.sh revoke "$(KEY)"

test:
	@bash scripts/stack.sh test

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench/run.sh not present"; fi

clean:
	dotnet clean Vidline.slnx -c Release -nologo -v quiet || true
	rm -rf TestResults tests/*/TestResults bench/results

clean-state: stop
	rm -rf .run
