//! File storage over `object_store`: a local folder by default (`DATA_DIR/files`), an
//! S3-compatible bucket when `S3_BUCKET` is set. Every stored object is reported with its size
//! and SHA-256 so callers can record and later verify them.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("storage key {0:?} is not valid")]
    InvalidKey(String),
    #[error(transparent)]
    Backend(#[from] object_store::Error),
    #[error("cannot prepare the storage folder: {0}")]
    Io(#[from] std::io::Error),
}

impl From<StorageError> for AppError {
    fn from(err: StorageError) -> Self {
        match err {
            // A key that cannot exist names no file.
            StorageError::NotFound(_) | StorageError::InvalidKey(_) => {
                AppError::not_found("File not found")
            }
            other => AppError::internal(other),
        }
    }
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
}

/// A readable object: its size and a stream of its bytes.
pub struct ObjectStream {
    pub size: u64,
    pub stream: BoxStream<'static, Result<Bytes, StorageError>>,
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    backend: &'static str,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.backend)
    }
}

/// Hex SHA-256 of some bytes.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Keep a file name readable but safe as a key segment.
#[must_use]
pub fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

fn store_path(key: &str) -> Result<StorePath, StorageError> {
    match StorePath::parse(key) {
        // The empty path is the store's root, never an object; a segment longer than a file
        // name may be is not one of ours either.
        Ok(path) if !path.as_ref().is_empty() && path.parts().all(|p| p.as_ref().len() <= 255) => {
            Ok(path)
        }
        _ => Err(StorageError::InvalidKey(key.to_owned())),
    }
}

impl Storage {
    /// Local folder or S3 bucket, from configuration.
    ///
    /// # Errors
    /// The local folder cannot be created or the S3 settings are incomplete.
    pub fn from_config(config: &Config) -> Result<Self, StorageError> {
        match &config.s3 {
            Some(s3) => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_allow_http(s3.allow_http);
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key_id) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key_id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    backend: "s3",
                })
            }
            None => Self::local(&config.files_dir()),
        }
    }

    /// Files under `dir` (created if missing).
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn local(dir: &std::path::Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            backend: "local",
        })
    }

    #[must_use]
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// A fresh key under `prefix` that keeps the original name readable:
    /// `tickets/2026/01/<uuid>-photo.jpg`.
    #[must_use]
    pub fn new_key(prefix: &str, file_name: &str) -> String {
        let now = chrono::Utc::now();
        format!(
            "{}/{}/{}-{}",
            prefix.trim_matches('/'),
            now.format("%Y/%m"),
            uuid::Uuid::now_v7(),
            sanitize_file_name(file_name)
        )
    }

    /// Store `bytes` at `key`.
    ///
    /// # Errors
    /// The key is invalid or the backend failed.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<StoredObject, StorageError> {
        let path = store_path(key)?;
        let size = bytes.len() as u64;
        let sha256 = sha256_hex(&bytes);
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(StoredObject {
            key: key.to_owned(),
            size,
            sha256,
        })
    }

    /// Stream an object's bytes.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] when there is no such object.
    pub async fn get(&self, key: &str) -> Result<ObjectStream, StorageError> {
        let path = store_path(key)?;
        let result = self.store.get(&path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_owned()),
            other => StorageError::Backend(other),
        })?;
        let size = result.meta.size;
        let stream = result
            .into_stream()
            .map(|chunk| chunk.map_err(StorageError::from))
            .boxed();
        Ok(ObjectStream { size, stream })
    }

    /// Read a whole object (small files only).
    ///
    /// # Errors
    /// [`StorageError::NotFound`] when there is no such object.
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = store_path(key)?;
        let result = self.store.get(&path).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_owned()),
            other => StorageError::Backend(other),
        })?;
        Ok(result.bytes().await?)
    }

    /// Remove an object; removing a missing one is not an error.
    ///
    /// # Errors
    /// The backend failed.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = store_path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\x\\devis final.pdf"),
            "devis_final.pdf"
        );
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name(""), "file");
    }

    #[test]
    fn s3_settings_build_an_s3_store() {
        let config = crate::config::Config::from_lookup(|k| {
            match k {
                "APP_ENV" => Some("test"),
                "JWT_SECRET" => Some("test-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
                "ENCRYPTION_KEY" => Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
                "S3_BUCKET" => Some("presta-files"),
                "S3_REGION" => Some("eu-west-3"),
                "S3_ENDPOINT" => Some("http://127.0.0.1:9000"),
                "S3_ACCESS_KEY_ID" => Some("minio"),
                "S3_SECRET_ACCESS_KEY" => Some("minio-secret"),
                "S3_ALLOW_HTTP" => Some("true"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap();
        let storage = Storage::from_config(&config).unwrap();
        assert_eq!(storage.backend(), "s3");
        assert!(
            !format!("{config:?}").contains("minio-secret"),
            "secrets stay out of Debug"
        );
    }

    #[tokio::test]
    async fn local_storage_round_trips_with_checksum() {
        let dir = std::env::temp_dir().join(format!("presta-storage-{}", uuid::Uuid::now_v7()));
        let storage = Storage::local(&dir).unwrap();
        let key = Storage::new_key("tests", "hello.txt");
        let stored = storage
            .put(&key, Bytes::from_static(b"bonjour"))
            .await
            .unwrap();
        assert_eq!(stored.size, 7);
        assert_eq!(stored.sha256, sha256_hex(b"bonjour"));
        assert_eq!(
            storage.get_bytes(&key).await.unwrap(),
            Bytes::from_static(b"bonjour")
        );
        storage.delete(&key).await.unwrap();
        assert!(matches!(
            storage.get(&key).await,
            Err(StorageError::NotFound(_))
        ));
        storage.delete(&key).await.unwrap();
        let long = "x".repeat(300);
        for bad in ["/", "", "../x", long.as_str()] {
            assert!(storage.get(bad).await.is_err(), "{bad}");
        }
        std::fs::remove_dir_all(dir).ok();
    }
}
