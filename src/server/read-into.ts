/**
 * Reading an accepted socket into one reused buffer instead of a fresh Buffer per read.
 *
 * Why: on a lock-step workload (Postfix's smtp-source sends each RCPT only after the previous
 * reply) every command costs one read. Node's default read path allocates a 64 KiB backing store
 * per read, shrinks it, wraps it in a Buffer and runs it through the Readable stream machinery;
 * measured with `perf` on 200 × 1000-recipient messages that was about half of the server's user
 * CPU. Node has a public option for the cheap path, `onread: { buffer, callback }` (libuv reads
 * straight into `buffer`, the callback gets the octet count), but only on sockets the program
 * creates itself (`new net.Socket`, `net.connect`), not on sockets a `net.Server` accepts.
 *
 * `readInto` gives an accepted socket the same treatment by setting the two fields that the
 * `onread` option sets, found by their symbol descriptions, and calling the handle's
 * `useUserBuffer` exactly as Node's own `initSocketHandle` does. This leans on Node internals
 * (checked on Node 20): every piece is looked up first, and when any is missing `readInto` does
 * nothing and returns false, so the caller keeps its `'data'` listener and loses only speed.
 * `pause()`/`resume()` keep working: Node's Socket overrides them for user-buffer sockets.
 *
 * The price: the octets handed to `onChunk` are borrowed. The buffer is overwritten by the next
 * read on any socket that shares it, so whatever must outlive the call has to be copied.
 */
import type { Socket } from 'node:net';

/** Size of a shared read buffer: libuv's usual read size, so one read takes what a 'data' read would. */
export const READ_BUFFER_SIZE = 64 * 1024;

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Makes `socket` read into `buffer` and call `onChunk(view)` with a view of the octets read,
 * valid only during the call. Call it before the first read (in the `connection` listener).
 * Returns false, changing nothing, when this Node does not have the internals it needs or the
 * socket is not a plain TCP socket with a handle (a TLSSocket, say).
 */
export function readInto(socket: Socket, buffer: Buffer, onChunk: (view: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle == null || typeof handle.useUserBuffer !== 'function') return false;
  let kBuffer: symbol | undefined;
  let kBufferCb: symbol | undefined;
  for (const s of Object.getOwnPropertySymbols(socket)) {
    if (s.description === 'kBuffer') kBuffer = s;
    else if (s.description === 'kBufferCb') kBufferCb = s;
  }
  if (kBuffer === undefined || kBufferCb === undefined) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  // Both must still hold their constructor defaults (null): anything else is a Node we do not know.
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null) return false;
  fields[kBuffer] = buffer;
  // Node calls it with (octets read, buffer); a return of false would stop reading, so return nothing.
  fields[kBufferCb] = (nread: number, buf: Buffer): void => onChunk(buf.subarray(0, nread));
  handle.useUserBuffer(buffer);
  return true;
}
