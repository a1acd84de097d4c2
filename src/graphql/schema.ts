// Imports every part of the schema, then builds it. The order of imports is the order types are printed.
import { builder } from './builder.js';
import './errors.js';
import './auth.js';
import './audit.js';
import './timeTravel.js';
import './securityFeed.js';
import './totp.js';
import './webauthn/registration.js';
import './webauthn/authentication.js';
import './webauthn/passkeys.js';
import './webauthn/management.js';
import './devices.js';
import './administration.js';
import './emailCodes.js';
import './recovery.js';

export const schema = builder.toSchema({ sortSchema: true });
import './security.js';
