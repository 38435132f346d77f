#!/usr/bin/env bash
# What an operator does with Vidline's RabbitMQ queues, through the management API.
#
#   scripts/queues.sh errors               every _error queue that holds messages, with the first message's reason
#   scripts/queues.sh requeue QUEUE_error  moves every message of QUEUE_error back to QUEUE (at least once, in order),
#                                          by a dynamic shovel that deletes itself when the queue is empty
#   scripts/queues.sh upgrade              converts Vidline's shared queues (and their _error queues) that an older
#                                          Vidline declared as classic to quorum queues, keeping their messages;
#                                          run it with the services stopped (services.sh start does)
#
# VHOST (default /) picks the virtual host; RABBIT_UI_PORT, RABBIT_USER and RABBIT_PASSWORD reach the API.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VHOST="${VHOST:-/}"
API="http://127.0.0.1:$RABBIT_UI_PORT/api"
AUTH="${RABBIT_USER:-guest}:${RABBIT_PASSWORD:-guest}"
V=$(jq -rn --arg v "$VHOST" '$v|@uri')

api() { # api METHOD PATH [JSON]
    curl -fsS -u "$AUTH" -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$API$2"
}

queue_exists() { curl -fs -o /dev/null -u "$AUTH" "$API/queues/$V/$(jq -rn --arg q "$1" '$q|@uri')"; }

# move FROM TO: a shovel that takes every message FROM holds now, publishes it TO with confirms, acks it only then
# (nothing is lost if the broker or the shovel dies halfway: the rest stays in FROM), and deletes itself when done.
move() {
    local from=$1 to=$2 name="vidline-move-$1" uri
    uri="amqp:///$V"
    api PUT "/parameters/shovel/$V/$(jq -rn --arg n "$name" '$n|@uri')" "$(jq -n --arg from "$from" --arg to "$to" --arg uri "$uri" '{value: {
        "src-protocol": "amqp091", "src-uri": $uri, "src-queue": $from, "src-delete-after": "queue-length",
        "dest-protocol": "amqp091", "dest-uri": $uri, "dest-queue": $to, "ack-mode": "on-confirm"}}')" >/dev/null
    local i
    for ((i = 0; i < 600; i++)); do
        api GET "/parameters/shovel/$V" | jq -e --arg n "$name" 'any(.[]; .name == $n)' >/dev/null || return 0
        sleep 0.2
    done
    die "moving $from to $to did not finish in 2 minutes (see the Shovel Status page of the management UI)"
}

# Each _error queue is read (and its first message put back) rather than trusted to its count, which lags by seconds.
cmd_errors() {
    local found=0 queue count first
    while IFS=$'\t' read -r queue count; do
        first=$(api POST "/queues/$V/$(jq -rn --arg q "$queue" '$q|@uri')/get" \
            '{"count":1,"ackmode":"ack_requeue_true","encoding":"auto","truncate":2000}')
        [[ $(jq length <<<"$first") -gt 0 ]] || continue
        found=1
        printf '%s\t%s message(s)\t%s\n' "$queue" "$((count > 0 ? count : 1))" "$(jq -r '.[0].properties.headers
            | (."MT-Fault-ExceptionType" // "?") + ": " + (."MT-Fault-Message" // "no reason recorded")' <<<"$first")"
    done < <(api GET "/queues/$V" | jq -r '.[] | select(.name | endswith("_error")) | [.name, (.messages // 0)] | @tsv')
    ((found)) || log "no messages in any _error queue of vhost $VHOST"
}

cmd_requeue() {
    local error=${1:-} target
    [[ $error == *_error ]] || die "usage: scripts/queues.sh requeue QUEUE_error"
    target=${error%_error}
    queue_exists "$error" || die "there is no queue $error in vhost $VHOST"
    queue_exists "$target" || die "there is no queue $target in vhost $VHOST to move the messages back to"
    move "$error" "$target"
    log "moved the messages of $error back to $target"
}

# The quorum queues the services declare (AddQuorumQueues in ingest-api and progress-gateway; OperationsTests holds this
# list to what a running pipeline declares). An older Vidline declared them, and their _error and _skipped queues, as
# classic queues; nothing else in the virtual host is touched. The API's message counts lag by seconds, so every queue
# is moved whatever its count says.
QUORUM_QUEUES=(video-job job-files progress-gateway)

cmd_upgrade() {
    local queue converted=0
    while read -r queue; do
        converted=1
        log "converting $queue to a quorum queue"
        api PUT "/queues/$V/$queue.upgrading" '{"durable":true,"arguments":{"x-queue-type":"quorum"}}' >/dev/null
        move "$queue" "$queue.upgrading"
        api DELETE "/queues/$V/$queue" >/dev/null
        api PUT "/queues/$V/$queue" '{"durable":true,"arguments":{"x-queue-type":"quorum"}}' >/dev/null
        # MassTransit routes to a queue through the exchange of the same name: bind the new queue to it again
        # (the services re-declare the rest of their topology when they start).
        if curl -fs -o /dev/null -u "$AUTH" "$API/exchanges/$V/$queue"; then
            api POST "/bindings/$V/e/$queue/q/$queue" '{"routing_key":""}' >/dev/null
        fi
        move "$queue.upgrading" "$queue"
        api DELETE "/queues/$V/$queue.upgrading" >/dev/null
    done < <(api GET "/queues/$V" | jq -r --arg names "${QUORUM_QUEUES[*]}" '
        ($names | split(" ")) as $quorum
        | .[] | select(.type == "classic") | select(.name | sub("_(error|skipped)$"; "") | IN($quorum[])) | .name')
    ((!converted)) || log "the shared queues of vhost $VHOST are quorum queues now"
}

case "${1:-}" in
    errors) cmd_errors ;;
    requeue) shift; cmd_requeue "$@" ;;
    upgrade) cmd_upgrade ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
