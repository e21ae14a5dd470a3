#!/bin/sh
# The stand-in agent of dockerd-sandbox: dockerd is ready when this runs
# (it is `after = dockerd`), so it can use it at once.
set -e
docker version --format 'docker {{.Server.Version}} ready'
exec sleep infinity
