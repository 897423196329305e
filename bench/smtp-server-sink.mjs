// Node's smtp-server library (nodemailer) as a discard sink, for bench/servers.sh: no AUTH, no
// STARTTLS, every message read and thrown away. Usage: node bench/smtp-server-sink.mjs PORT
import { SMTPServer } from 'smtp-server';

const port = Number(process.argv[2]);
const server = new SMTPServer({
  logger: false,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  onData(stream, _session, done) {
    stream.on('data', () => {});
    stream.on('end', () => done());
  },
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
