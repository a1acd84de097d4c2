// Every event type the log accepts. Each aggregate owns its list; an unknown type is refused at append.
import { userEventTypes } from './user/events.js';
import { loginEventTypes } from './login/events.js';
import { sessionEventTypes } from './session/events.js';
import { authenticatorEventTypes } from './authenticators/events.js';
import { notificationEventTypes } from './notification/events.js';
import { deviceEventTypes } from './device/events.js';
import { detectionEventTypes } from './detection/events.js';

export const allEventTypes: readonly string[] = [
  ...userEventTypes,
  ...loginEventTypes,
  ...sessionEventTypes,
  ...authenticatorEventTypes,
  ...notificationEventTypes,
  ...deviceEventTypes,
  ...detectionEventTypes,
];
