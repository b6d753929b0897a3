import { randomBytes, randomInt } from 'node:crypto';

// Ids look like the seeds' (MongoDB ObjectId layout): 4 bytes of seconds, 5 random bytes
// chosen per process, 3 bytes of counter. They sort roughly by creation time, which keeps
// B-tree inserts local, and never collide between processes.
const processPart = randomBytes(5).toString('hex');
let counter = randomInt(0xffffff);

export function newId(now: Date = new Date()): string {
  counter = (counter + 1) & 0xffffff;
  const seconds = Math.floor(now.getTime() / 1000);
  return seconds.toString(16).padStart(8, '0') + processPart + counter.toString(16).padStart(6, '0');
}

const ID_PATTERN = /^[0-9a-f]{24}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
