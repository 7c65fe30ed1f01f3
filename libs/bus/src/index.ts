export { unlessAborted } from './backoff.js';
export { type BusOptions, createBus, DEFAULT_MAX_LEN } from './bus.js';
export { DEAD_LETTER_RAW_MAX_BYTES } from './dead-letter.js';
export {
  AbortedWaitError,
  BlockingTimeoutError,
  BusClosedError,
  BusError,
  InterruptedError,
  InvalidBusOptionError,
  InvalidOutgoingEventError,
  PublishError,
  UnexpectedReplyError,
} from './errors.js';
export type {
  BroadcastOptions,
  Bus,
  ConsumeOptions,
  Consumer,
  ConsumerStats,
  DelayedSet,
  Delivery,
  OutgoingEvent,
} from './types.js';
