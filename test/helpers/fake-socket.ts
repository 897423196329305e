/** The in-memory server socket lives beside the server (unit tests under src/ import it there); re-exported for test/ and bench/. */
export { FakeSocket } from '../../src/server/fake-socket.testkit.js';
