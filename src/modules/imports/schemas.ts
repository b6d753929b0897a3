import { Type } from '@sinclair/typebox';
import { Envelope } from '../../http/schemas.ts';

export const ImportQuery = Type.Object({
  configurationId: Type.String({ description: 'The lead-management configuration every row is routed through' }),
});

export const ImportResponse = Envelope(
  Type.Object({
    rows: Type.Integer(),
    created: Type.Integer({ description: 'new leads' }),
    updated: Type.Integer({ description: 'rows that matched an existing lead (same phone, else same email)' }),
    failed: Type.Integer(),
    errors: Type.Array(Type.Object({ line: Type.Integer(), error: Type.String() }), { description: 'the first 1000 refused rows' }),
    durationMs: Type.Integer(),
  }),
);
