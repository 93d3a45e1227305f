//! Wire types that cross between the browser and the server: what the browser asks to upload,
//! the tickets the server signs, ledger rows, the page's setup. Nothing here is trusted on
//! arrival. The one error type is in `error.rs`.

use serde::{Deserialize, Serialize};

/// How the server names each object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamingMode {
    /// An unguessable id that keeps the file's extension.
    #[default]
    Random,
    /// The file's own name, made safe; never overwrites an existing object.
    Original,
}

/// One file the browser wants to upload, as the browser describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    pub name: String,
    pub size: u64,
    /// The browser's MIME type for the file; may be empty.
    pub content_type: String,
}

/// A batch of files to sign, with the naming mode and the destination folder the user chose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadBatch {
    pub files: Vec<FileSpec>,
    pub naming: NamingMode,
    pub folder: String,
}

/// Everything the browser needs to POST one file straight to the bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTicket {
    /// The object key the server chose.
    pub key: String,
    /// Where the form is POSTed (the bucket's URL).
    pub url: String,
    /// Form fields in the order they must be sent; the file goes after all of them.
    pub fields: Vec<(String, String)>,
    /// Where the stored object can be fetched.
    pub object_url: String,
    /// When the signed policy expires, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// A multipart upload the server started, as the browser names it back: the token (an HMAC
/// the server made over every other field) proves the server chose this key and upload id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub key: String,
    pub upload_id: String,
    pub size: u64,
    pub part_size: u64,
    pub content_type: String,
    pub token: String,
}

impl MultipartUpload {
    /// How many parts the file is cut into (a 0-byte file is one empty part).
    pub fn part_count(&self) -> u32 {
        part_count(self.size, self.part_size)
    }
}

/// `ceil(size / part_size)`, at least 1.
pub fn part_count(size: u64, part_size: u64) -> u32 {
    (size.div_ceil(part_size.max(1))).max(1) as u32
}

/// The byte range `[start, end)` of part `number` (1-based).
pub fn part_range(number: u32, size: u64, part_size: u64) -> (u64, u64) {
    let start = u64::from(number.saturating_sub(1)) * part_size;
    (start.min(size), (start + part_size).min(size))
}

/// A part the storage already holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    pub number: u32,
    /// Without quotes.
    pub etag: String,
}

/// Where the browser sends the parts still missing, and which are already there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartPlan {
    pub upload: MultipartUpload,
    pub object_url: String,
    pub stored: Vec<StoredPart>,
    /// A presigned PUT URL per missing part.
    pub urls: Vec<(u32, String)>,
    /// When the URLs stop working, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// A completed multipart upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedUpload {
    pub key: String,
    pub url: String,
    /// `HEX-N`, without quotes.
    pub etag: String,
}

/// What the uploader needs to know of the server's upload rules: the island's props, so
/// nothing here is secret (the server checks every rule again when it signs). On the wire a
/// list of the fields in order ([`SettingsWire`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SettingsWire", from = "SettingsWire")]
pub struct UploaderSettings {
    pub default_folder: String,
    pub upload_root: String,
    pub max_file_size: u64,
    pub max_files: u32,
    pub parallel_uploads: u32,
    /// Times the page tries a file again after a network or storage fault.
    pub upload_retries: u32,
    /// "Remove location from photos" starts ticked.
    pub strip_location: bool,
    /// "Photo size" starts at Smaller.
    pub photo_smaller: bool,
    /// The reader may change "Photo size".
    pub photo_choice: bool,
    /// A smaller photo's longest edge, in pixels.
    pub photo_edge: u32,
    /// A smaller JPEG's or WebP's quality, in percent.
    pub photo_quality: u32,
    /// Files this large or larger go up in parts, resumably; 0 when multipart is off.
    pub multipart_threshold: u64,
    /// Allowed MIME types (`image/*` style patterns allowed); empty means any type.
    pub allowed_types: Vec<String>,
    /// What kind of browser asked, from its User-Agent (decided once, on the server, so the
    /// server's HTML and the hydrated page agree).
    pub client: ClientKind,
    pub limits: Limits,
    /// How the page checks what the bucket stored against the file it sent.
    pub checksum: Checksum,
    /// A sender's pass when the uploader sends through an upload request: its calls then go
    /// to `/r/<pass>/api/...`, and the request's rules apply.
    pub sender: Option<String>,
    /// The reader may press "Continue on phone" (a short-lived request of their own, shown as
    /// a QR code; what the phone sends joins this list).
    pub phone: bool,
}

/// [`UploaderSettings`] on the wire: its fields in order, as a list. serde's reader of a struct
/// matches field names and weighs 6.4 KB in the page's WASM; a list's reader does not.
#[derive(Serialize, Deserialize)]
struct SettingsWire(
    String,
    String,
    u64,
    u32,
    u32,
    u32,
    bool,
    bool,
    bool,
    u32,
    u32,
    u64,
    Vec<String>,
    ClientKind,
    Limits,
    Checksum,
    Option<String>,
    bool,
);

impl From<UploaderSettings> for SettingsWire {
    fn from(s: UploaderSettings) -> Self {
        SettingsWire(
            s.default_folder,
            s.upload_root,
            s.max_file_size,
            s.max_files,
            s.parallel_uploads,
            s.upload_retries,
            s.strip_location,
            s.photo_smaller,
            s.photo_choice,
            s.photo_edge,
            s.photo_quality,
            s.multipart_threshold,
            s.allowed_types,
            s.client,
            s.limits,
            s.checksum,
            s.sender,
            s.phone,
        )
    }
}

impl From<SettingsWire> for UploaderSettings {
    fn from(w: SettingsWire) -> Self {
        UploaderSettings {
            default_folder: w.0,
            upload_root: w.1,
            max_file_size: w.2,
            max_files: w.3,
            parallel_uploads: w.4,
            upload_retries: w.5,
            strip_location: w.6,
            photo_smaller: w.7,
            photo_choice: w.8,
            photo_edge: w.9,
            photo_quality: w.10,
            multipart_threshold: w.11,
            allowed_types: w.12,
            client: w.13,
            limits: w.14,
            checksum: w.15,
            sender: w.16,
            phone: w.17,
        }
    }
}

/// The digest the page computes while a file goes up, chosen by what the store answers. On the
/// wire (the island's props) a bool, `true` for CRC-64: the page then decodes it with the bool
/// reader it has anyway, not an enum reader of its own (~300 B of WASM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "bool", into = "bool")]
pub enum Checksum {
    /// CRC-64/ECMA-182, which OSS (and the embedded bucket) answers for every object and part
    /// as `x-oss-hash-crc64ecma`: several times cheaper to compute than MD5.
    #[default]
    Crc64,
    /// MD5, which S3 stores answer as a simple upload's (or a part's) ETag.
    Md5,
}

impl From<bool> for Checksum {
    fn from(crc64: bool) -> Self {
        if crc64 {
            Checksum::Crc64
        } else {
            Checksum::Md5
        }
    }
}

impl From<Checksum> for bool {
    fn from(checksum: Checksum) -> bool {
        checksum == Checksum::Crc64
    }
}

/// The browsers the page adapts to. On the wire (the island's props) a number: serde's reader
/// of an enum weighs 1.3 KB in the page's WASM, its reader of a number nothing more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u32", from = "u32")]
pub enum ClientKind {
    #[default]
    Desktop,
    Mobile,
    /// WeChat's in-app browser on Android: `multiple` hides the camera, so it gets a separate
    /// "Take photo" control.
    WeChatAndroid,
    /// WeChat's in-app browser on iOS (or elsewhere).
    WeChatOther,
}

impl ClientKind {
    pub fn from_user_agent(user_agent: &str) -> Self {
        let android = user_agent.contains("Android");
        if user_agent.contains("MicroMessenger") {
            return if android {
                ClientKind::WeChatAndroid
            } else {
                ClientKind::WeChatOther
            };
        }
        let mobile = android
            || ["iPhone", "iPad", "iPod", "Mobile"]
                .iter()
                .any(|m| user_agent.contains(m));
        if mobile {
            ClientKind::Mobile
        } else {
            ClientKind::Desktop
        }
    }

    pub fn is_wechat(self) -> bool {
        matches!(self, ClientKind::WeChatAndroid | ClientKind::WeChatOther)
    }
}

impl From<ClientKind> for u32 {
    fn from(kind: ClientKind) -> u32 {
        kind as u32
    }
}

impl From<u32> for ClientKind {
    /// An unknown number is a desktop browser, the plainest page.
    fn from(number: u32) -> Self {
        match number {
            1 => ClientKind::Mobile,
            2 => ClientKind::WeChatAndroid,
            3 => ClientKind::WeChatOther,
            _ => ClientKind::Desktop,
        }
    }
}

/// Who is using the page, as the server sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    /// The folder every upload of theirs stays under.
    pub root: String,
    pub admin: bool,
    /// False in open mode, where nobody signs in.
    pub signed_in: bool,
}

/// The limits that apply to the viewer, as the page shows them. On the wire (the island's
/// props) three numbers in this order: a struct's reader weighs 1.5 KB in the page's WASM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "[u64; 3]", from = "[u64; 3]")]
pub struct Limits {
    /// Signing requests per minute, per user and per address.
    pub signs_per_minute: u32,
    /// Bytes per user over any 24 hours; 0 for no limit.
    pub daily_bytes: u64,
    /// Bytes the viewer has used (or holds signed tickets for) in the last 24 hours.
    pub used_bytes: u64,
}

impl From<Limits> for [u64; 3] {
    fn from(limits: Limits) -> Self {
        [
            limits.signs_per_minute.into(),
            limits.daily_bytes,
            limits.used_bytes,
        ]
    }
}

impl From<[u64; 3]> for Limits {
    fn from([signs_per_minute, daily_bytes, used_bytes]: [u64; 3]) -> Self {
        Limits {
            signs_per_minute: u32::try_from(signs_per_minute).unwrap_or(u32::MAX),
            daily_bytes,
            used_bytes,
        }
    }
}

/// What the sign-in form asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginKind {
    /// A name and a password (users file).
    Password,
    /// A shared access code.
    Code,
}

/// One signed upload in the ledger, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub user: String,
    pub key: String,
    /// Where the object can be fetched (empty while the upload is not complete).
    pub url: String,
    pub declared_size: u64,
    pub content_type: String,
    /// Seconds since the Unix epoch.
    pub signed_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub etag: Option<String>,
    pub stored_size: Option<u64>,
    /// `callback`, `head` or `multipart`: how the completion was learnt.
    pub completed_by: Option<String>,
    pub client_ip: String,
    pub user_agent: String,
    /// The file's name as picked (the key may be random); empty when the key carries it.
    #[serde(default)]
    pub file_name: String,
    /// When its object was deleted, and by whom; the entry stays for the record.
    #[serde(default)]
    pub deleted_at: Option<i64>,
    #[serde(default)]
    pub deleted_by: Option<String>,
    /// The upload request it came through (empty for the portal's own users), and what its
    /// sender said of themselves.
    #[serde(default)]
    pub request_id: String,
    #[serde(default)]
    pub sender_name: String,
    #[serde(default)]
    pub sender_note: String,
}

/// Which ledger entries to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    #[default]
    All,
    Completed,
    Pending,
}

/// The admin page's filters (the "My uploads" page uses only `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub key_prefix: String,
    #[serde(default)]
    pub state: EntryState,
    /// 1-based.
    #[serde(default)]
    pub page: u32,
}

/// One page of ledger entries, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    /// Whether the viewer may delete what the page lists (see `portal::deletion::may_delete`).
    #[serde(default)]
    pub deletable: bool,
}

/// One finding of the storage self-diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `cors`, `clock`, `credentials`, `database`, `storage`.
    pub check: String,
    pub ok: bool,
    /// What was found, or exactly what is missing, in plain words (English: for operators).
    pub detail: String,
}

/// Where an upload request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    Open,
    Expired,
    Closed,
}

/// An upload request as its pages show it (to its creator, or the rules to a sender).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub id: String,
    pub title: String,
    pub instructions: String,
    /// The link's path, `/r/<token>` (the creator's pages only; empty for senders).
    pub link: String,
    pub folder: String,
    pub naming: NamingMode,
    pub state: RequestState,
    pub created_at: i64,
    pub expires_at: i64,
    /// 0: no limit of the request's own.
    pub max_files: u64,
    pub max_file_size: u64,
    pub max_total_bytes: u64,
    pub allowed_types: Vec<String>,
    pub has_password: bool,
    pub ask_name: bool,
    pub ask_note: bool,
    pub sender_folders: bool,
    /// Files stored and bytes received so far.
    pub files: u64,
    pub bytes: u64,
    pub creator: String,
    /// The creator's pages only.
    pub webhook: Option<WebhookSummary>,
}

/// A request's webhook as its creator's page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSummary {
    /// Empty: none.
    pub url: String,
    /// `json`, `wecom` or `dingtalk`.
    pub kind: String,
    /// The key that signs the JSON bodies (`X-Portal-Signature`).
    pub key: String,
    /// How the last delivery went, and when (0: not yet).
    pub status: String,
    pub at: i64,
}

/// The creator's page of one request: the request, its link's QR code (SVG), and what arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetail {
    pub request: RequestSummary,
    /// The link in full, as shared.
    pub url: String,
    pub qr_svg: String,
    /// Stored uploads, in the order they arrived.
    pub arrivals: Vec<LedgerEntry>,
    /// When they were read (Unix seconds): the page asks for what completed since.
    pub drawn_at: i64,
}

/// A file that arrived from the phone ("Continue on phone"), as the uploader lists it. The
/// request's event stream sends it (`?as=line`) as one line of tab-separated fields: the page
/// reads that with a split, not a JSON decoder of its own (~2 KB of WASM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneArrival {
    pub name: String,
    pub size: u64,
    pub key: String,
    pub url: String,
    pub etag: String,
}

impl PhoneArrival {
    /// The line: `name`, `size`, `key`, `url`, `etag`, each without control characters.
    pub fn to_line(&self) -> String {
        let clean = |text: &str| text.replace(char::is_control, " ");
        format!(
            "{}\t{}\t{}\t{}\t{}",
            clean(&self.name),
            self.size,
            clean(&self.key),
            clean(&self.url),
            clean(&self.etag)
        )
    }

    pub fn from_line(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, size, key, url, etag] = fields[..] else {
            return None;
        };
        Some(PhoneArrival {
            name: name.into(),
            size: size.parse().ok()?,
            key: key.into(),
            url: url.into(),
            etag: etag.into(),
        })
    }
}

/// What the page behind a request's link shows a sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Invitation {
    /// Ask for the password, name and note first (what the request asks for).
    Join {
        request: RequestSummary,
        needs_password: bool,
    },
    /// Ready to send, as `name` (their note travels in the uploader's pass).
    Send {
        request: RequestSummary,
        name: String,
        uploader: UploaderSettings,
    },
    /// Closed or expired: nothing can be sent.
    Ended { title: String, state: RequestState },
}

/// Whether `content_type` is allowed by `patterns` (`image/png`, `image/*`); none allows all.
pub fn type_allowed(patterns: &[String], content_type: &str) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|pattern| match pattern.strip_suffix("/*") {
                Some(kind) => content_type.split('/').next() == Some(kind),
                None => pattern == content_type,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_arrivals_travel_as_one_line() {
        let arrival = PhoneArrival {
            name: "IMG\t0001\n.jpg".into(),
            size: 5,
            key: "uploads/alice/IMG 0001 .jpg".into(),
            url: "http://127.0.0.1:9300/b/uploads/alice/IMG%200001%20.jpg".into(),
            etag: "ABC".into(),
        };
        let line = arrival.to_line();
        assert!(!line.contains('\n'));
        let back = PhoneArrival::from_line(&line).unwrap();
        assert_eq!(back.name, "IMG 0001 .jpg");
        assert_eq!(
            PhoneArrival {
                name: arrival.name.clone(),
                ..back.clone()
            },
            arrival
        );
        for bad in ["", "a\tx\tk\tu\te", "a\t1\tk\tu", "a\t1\tk\tu\te\tmore"] {
            assert_eq!(PhoneArrival::from_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn clients_are_told_apart_by_user_agent() {
        let wechat_android = "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/2651 MicroMessenger/8.0.42.2460(0x28002A3B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
        let wechat_ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2b) NetType/WIFI Language/zh_CN";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(
            ClientKind::from_user_agent(wechat_android),
            ClientKind::WeChatAndroid
        );
        assert_eq!(
            ClientKind::from_user_agent(wechat_ios),
            ClientKind::WeChatOther
        );
        assert_eq!(ClientKind::from_user_agent(safari), ClientKind::Mobile);
        assert_eq!(ClientKind::from_user_agent(desktop), ClientKind::Desktop);
        assert_eq!(ClientKind::from_user_agent(""), ClientKind::Desktop);
        assert!(ClientKind::WeChatOther.is_wechat() && !ClientKind::Mobile.is_wechat());
    }

    #[test]
    fn the_islands_props_carry_kinds_and_limits_as_numbers() {
        // Each kind its own number, read back as itself.
        for kind in [
            ClientKind::Desktop,
            ClientKind::Mobile,
            ClientKind::WeChatAndroid,
            ClientKind::WeChatOther,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert!(json.parse::<u32>().is_ok(), "{json}");
            assert_eq!(serde_json::from_str::<ClientKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            serde_json::from_str::<ClientKind>("99").unwrap(),
            ClientKind::Desktop
        );
        let limits = Limits {
            signs_per_minute: 60,
            daily_bytes: u64::MAX,
            used_bytes: 7,
        };
        let json = serde_json::to_string(&limits).unwrap();
        assert_eq!(json, format!("[60,{},7]", u64::MAX));
        assert_eq!(serde_json::from_str::<Limits>(&json).unwrap(), limits);
    }

    #[test]
    fn the_islands_settings_travel_as_a_list_of_their_fields() {
        let settings = UploaderSettings {
            default_folder: "uploads/alice/".into(),
            upload_root: "uploads/".into(),
            max_file_size: 1 << 40,
            max_files: 1000,
            parallel_uploads: 3,
            upload_retries: 2,
            strip_location: true,
            photo_smaller: false,
            photo_choice: true,
            photo_edge: 2560,
            photo_quality: 85,
            multipart_threshold: 1 << 26,
            allowed_types: vec!["image/*".into()],
            client: ClientKind::WeChatAndroid,
            limits: Limits {
                signs_per_minute: 60,
                daily_bytes: 5,
                used_bytes: 1,
            },
            checksum: Checksum::Md5,
            sender: Some("pass".into()),
            phone: true,
        };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(
            json,
            format!(
                "[\"uploads/alice/\",\"uploads/\",{},1000,3,2,true,false,true,2560,85,{},[\"image/*\"],2,[60,5,1],false,\"pass\",true]",
                1u64 << 40,
                1u64 << 26
            )
        );
        assert_eq!(
            serde_json::from_str::<UploaderSettings>(&json).unwrap(),
            settings
        );
        // Each field in its place: a list one short is refused, not read shifted.
        let short = json.replace(",true]", "]");
        assert!(serde_json::from_str::<UploaderSettings>(&short).is_err());
    }
}
