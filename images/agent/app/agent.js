// A stand-in agent: says when it listens (the readiness probe is
// `log:Gateway listening`), and stops cleanly on SIGTERM.
'use strict';
const http = require('http');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\n');
});
server.listen(3000, '127.0.0.1', () => console.log('Gateway listening on :3000'));
process.on('SIGTERM', () => {
  console.log('agent: SIGTERM, closing');
  server.close(() => process.exit(0));
});
process.on('SIGUSR1', () => console.log('agent: SIGUSR1'));
