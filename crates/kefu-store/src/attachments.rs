//! Upload metadata. A row is written once the file's bytes are safely on disk in a temp file
//! (the server then moves the file into place), and is linked to a message in the same
//! transaction that appends the message, so an upload is carried by at most one message.
//! Rows go with their conversation or message by `ON DELETE CASCADE`, whichever path deletes
//! them; [`Store::existing_attachment_ids`] lets the server's sweep find files no row names.

use std::collections::HashSet;

use kefu_core::domain::{Attachment, AttachmentInfo, AuthorKind, FileKind};
use kefu_core::{AttachmentId, ConversationId, MessageId, SiteId, Timestamp};
use sqlx::any::AnyRow;

use crate::row::{boolean, int, opt_parsed, parsed, text, time};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, site_id, conversation_id, message_id, uploader_kind, uploader_id, \
                       name, kind, content_type, size, sha256, created_at";

/// Ids asked about per query by the sweep (well under both backends' placeholder limits).
const ID_BATCH: usize = 500;

fn from_row(row: &AnyRow) -> Result<AttachmentInfo> {
    let size = int(row, "size")?;
    Ok(AttachmentInfo {
        id: parsed(row, "id")?,
        site_id: parsed(row, "site_id")?,
        conversation_id: parsed(row, "conversation_id")?,
        message_id: opt_parsed(row, "message_id")?,
        uploader_kind: parsed(row, "uploader_kind")?,
        uploader_id: text(row, "uploader_id")?,
        name: text(row, "name")?,
        kind: parsed(row, "kind")?,
        content_type: text(row, "content_type")?,
        size: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("size {size}")))?,
        sha256: text(row, "sha256")?,
        created_at: time(row, "created_at")?,
    })
}

/// An upload to record.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub id: AttachmentId,
    pub site_id: SiteId,
    pub conversation_id: ConversationId,
    pub uploader_kind: AuthorKind,
    pub uploader_id: String,
    pub name: String,
    pub kind: FileKind,
    pub size: u64,
    pub sha256: String,
}

impl Store {
    /// Records an upload (not yet on any message).
    pub async fn insert_attachment(&self, new: &NewAttachment) -> Result<AttachmentInfo> {
        let info = AttachmentInfo {
            id: new.id,
            site_id: new.site_id,
            conversation_id: new.conversation_id,
            message_id: None,
            uploader_kind: new.uploader_kind,
            uploader_id: new.uploader_id.clone(),
            name: new.name.clone(),
            kind: new.kind,
            content_type: new.kind.mime().to_owned(),
            size: new.size,
            sha256: new.sha256.clone(),
            created_at: Timestamp::now(),
        };
        let size = i64::try_from(info.size)
            .map_err(|_| StoreError::InvalidState("attachment is too large".into()))?;
        sqlx::query(
            "INSERT INTO attachments (id, site_id, conversation_id, message_id, uploader_kind, \
             uploader_id, name, kind, content_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(info.id.to_string())
        .bind(info.site_id.to_string())
        .bind(info.conversation_id.to_string())
        .bind(info.uploader_kind.as_str())
        .bind(info.uploader_id.clone())
        .bind(info.name.clone())
        .bind(info.kind.as_str())
        .bind(info.content_type.clone())
        .bind(size)
        .bind(info.sha256.clone())
        .bind(info.created_at.to_string())
        .execute(&self.pool)
        .await?;
        Ok(info)
    }

    /// One upload's record.
    pub async fn get_attachment(&self, id: AttachmentId) -> Result<AttachmentInfo> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("attachment"))?;
        from_row(&row)
    }

    /// Whether a message is a private note: files on notes are for agents only.
    pub async fn is_private_message(&self, id: MessageId) -> Result<bool> {
        let row = sqlx::query("SELECT private FROM messages WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("message"))?;
        boolean(&row, "private")
    }

    /// Forgets an upload whose file could not be put in place.
    pub async fn delete_attachment(&self, id: AttachmentId) -> Result<()> {
        sqlx::query("DELETE FROM attachments WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Which of `ids` still have a row: the sweep deletes the files of the others.
    pub async fn existing_attachment_ids(&self, ids: &[String]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for batch in ids.chunks(ID_BATCH) {
            let placeholders: Vec<String> = (1..=batch.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id FROM attachments WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in batch {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.insert(text(&row, "id")?);
            }
        }
        Ok(found)
    }
}

/// Links a message's uploaded attachments to it, inside the transaction that appends the
/// message. An upload already carried by another message (or not in this conversation)
/// refuses the whole append, so one file never ends up on two messages.
pub(crate) async fn link_to_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation: ConversationId,
    message: MessageId,
    attachments: &[Attachment],
) -> Result<()> {
    for id in attachments.iter().filter_map(|a| a.id) {
        let done = sqlx::query(
            "UPDATE attachments SET message_id = $1 \
             WHERE id = $2 AND conversation_id = $3 AND message_id IS NULL",
        )
        .bind(message.to_string())
        .bind(id.to_string())
        .bind(conversation.to_string())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::InvalidState(format!(
                "attachment {id} is already on a message or belongs to another conversation"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewMessage;
    use crate::test_support::fresh_store;
    use kefu_core::domain::ConversationStatus;

    #[tokio::test]
    async fn an_upload_is_linked_once_and_goes_with_its_conversation() {
        let db = fresh_store().await.unwrap();
        let store = &db.store;
        let site = store.create_site("s", &[]).await.unwrap();
        let visitor = store
            .create_visitor(site.id, "hash", &Default::default())
            .await
            .unwrap();
        let conv = store
            .create_conversation(site.id, visitor.id, ConversationStatus::Waiting, "web")
            .await
            .unwrap();
        let info = store
            .insert_attachment(&NewAttachment {
                id: AttachmentId::new(),
                site_id: site.id,
                conversation_id: conv.id,
                uploader_kind: AuthorKind::Visitor,
                uploader_id: visitor.id.to_string(),
                name: "a.png".into(),
                kind: FileKind::Png,
                size: 3,
                sha256: "00".into(),
            })
            .await
            .unwrap();
        assert_eq!(store.get_attachment(info.id).await.unwrap(), info);

        let message = |client: &str| NewMessage {
            author_kind: Some(AuthorKind::Visitor),
            author_id: Some(visitor.id.to_string()),
            text: String::new(),
            attachments: vec![info.to_message_attachment()],
            client_id: Some(client.into()),
            ..NewMessage::default()
        };
        let sent = store
            .append_message(conv.id, message("c1"), None)
            .await
            .unwrap();
        let linked = store.get_attachment(info.id).await.unwrap();
        assert_eq!(linked.message_id, Some(sent.message().id));
        // The same upload on a second message is refused, and nothing of that message stays.
        let err = store
            .append_message(conv.id, message("c2"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
        let log = store
            .list_messages_after(conv.id, 0, 10, true)
            .await
            .unwrap();
        assert_eq!(log.items.len(), 1);

        let ids = vec![info.id.to_string(), AttachmentId::new().to_string()];
        let present = store.existing_attachment_ids(&ids).await.unwrap();
        assert_eq!(present, HashSet::from([info.id.to_string()]));

        sqlx::query("DELETE FROM conversations WHERE id = $1")
            .bind(conv.id.to_string())
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(
            store
                .existing_attachment_ids(&ids)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
