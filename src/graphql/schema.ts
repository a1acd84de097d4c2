// Imports every part of the schema, then builds it. The order of imports is the order types are printed.
import { builder } from './builder.js';
import './errors.js';
import './auth.js';
import './audit.js';
import './totp.js';
import './webauthn.js';

export const schema = builder.toSchema({ sortSchema: true });
import './security.js';
