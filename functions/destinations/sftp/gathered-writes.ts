import type { Socket } from 'node:net';

/**
 * Corks `socket` from its first write in a tick until the tick ends, so the writes made in one go
 * leave in one writev. ssh2 writes every packet as three buffers (length, ciphertext, tag), and the
 * guarded socket sends without delay: uncorked, each buffer is a syscall and a TCP segment of its
 * own (a 4-byte segment before every packet). A window of SFTP writes is dozens of packets, so
 * this took a 256 MiB upload's socket writes from 0.81 s of CPU to 0.18 s on loopback.
 */
export function writesGathered(socket: Socket): Socket {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket['write'];
  return socket;
}
