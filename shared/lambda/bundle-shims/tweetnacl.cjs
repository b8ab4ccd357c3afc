/*
 * `tweetnacl` for the function bundles (infra/function-bundle.ts puts this module in its place). Its
 * one importer there is bcrypt-pbkdf, which derives the key of a passphrase-protected OpenSSH
 * private key (SFTP) and takes only SHA-512 from it: Node's crypto has that, and the rest of
 * tweetnacl is 34 KiB of the SFTP function's cold start.
 */
const { createHash } = require('node:crypto');

module.exports = {
  lowlevel: {
    /** tweetnacl's signature: the SHA-512 of `message`'s first `length` bytes into `out`; 0 for success. */
    crypto_hash(out, message, length) {
      out.set(createHash('sha512').update(message.subarray(0, length)).digest());
      return 0;
    },
  },
};
