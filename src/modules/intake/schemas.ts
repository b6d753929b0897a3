import { Type } from '@sinclair/typebox';
import { Envelope, Nullable } from '../../http/schemas.ts';

export const WebhookBody = Type.Object(
  {
    configurationId: Type.Optional(Type.String({ description: 'Also accepted as configuration_id or CONFIGURATION_ID' })),
    firstName: Type.Optional(Type.String()),
    lastName: Type.Optional(Type.String()),
    phoneNumber: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
    contacts: Type.Optional(Type.Unknown({ description: 'Nested form: the one contact (an object, or an array holding exactly one; anything else is 400)' })),
    applications: Type.Optional(Type.Unknown({ description: 'Nested form: kept with the lead as custom data' })),
    conversations: Type.Optional(Type.Unknown({ description: 'Nested form: kept with the lead as custom data' })),
  },
  { additionalProperties: true, description: 'Flat or nested lead; any other key is kept as custom data' },
);

export const WebhookQuery = Type.Object({
  configurationId: Type.Optional(Type.String()),
  configuration_id: Type.Optional(Type.String()),
  CONFIGURATION_ID: Type.Optional(Type.String()),
});

export const WebhookResponse = Envelope(
  Type.Object({
    contactId: Type.String({ description: 'The lead (contact) id' }),
    conversationId: Nullable(Type.String()),
    applicationId: Nullable(Type.String()),
  }),
);
