-- The assistant's metadata on its messages: sources (entry + revision), confidence, hand-off
-- reason, suggestions. JSON text; NULL on messages from people.
ALTER TABLE messages ADD COLUMN answer TEXT;
