//! The site folder the portal serves (HTML shell, WASM, JS, CSS): checked at start, so a
//! deployment missing a file refuses to start instead of failing every page, and its assets
//! compressed at the best quality once where the build left them to compress on the fly.

use std::io::Write;
use std::path::{Path, PathBuf};

use leptos::config::LeptosOptions;

/// Why the site cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SiteError(String);

/// Checks what the pages will load and writes the missing `.br` and `.gz` of the assets.
/// With hashed asset names, the hash file beside the binary must name the JS, WASM and CSS,
/// and they must be in the site's `pkg` folder.
pub fn prepare(options: &LeptosOptions) -> Result<(), SiteError> {
    let pkg = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    if options.hash_files {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default()
            .join(options.hash_file.as_ref());
        let hashes = std::fs::read_to_string(&hash_file).map_err(|e| {
            SiteError(format!(
                "{}: {e}; a release with hashed asset names needs this file beside the binary \
                 (cargo leptos writes it next to the binary it builds)",
                hash_file.display()
            ))
        })?;
        for asset in assets_named(options.output_name.as_ref(), &hashes, &hash_file)? {
            let path = pkg.join(&asset);
            if !path.is_file() {
                return Err(SiteError(format!(
                    "{} is missing: the site folder (LEPTOS_SITE_ROOT) must be the one built with this binary",
                    path.display()
                )));
            }
        }
    }
    precompress(&pkg);
    Ok(())
}

/// The asset names a hash file gives: `<output>.<hash>.js`, `.wasm` and `.css`.
fn assets_named(output: &str, hashes: &str, file: &Path) -> Result<Vec<String>, SiteError> {
    let mut assets = Vec::new();
    for kind in ["js", "wasm", "css"] {
        let hash = hashes
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim() == kind)
            .map(|(_, hash)| hash.trim())
            .filter(|hash| !hash.is_empty())
            .ok_or_else(|| SiteError(format!("{} names no {kind} file", file.display())))?;
        assets.push(format!("{output}.{hash}.{kind}"));
    }
    Ok(assets)
}

/// Writes `<asset>.br` (quality 11) and `<asset>.gz` (level 9) beside each JS, WASM and CSS
/// file that has none: what phones download is then the smallest form, however the release
/// was built. A read-only site is left as it is (compressed on the fly, at a lower quality).
fn precompress(pkg: &Path) {
    let Ok(entries) = std::fs::read_dir(pkg) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        let asset = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("js" | "wasm" | "css")
        );
        if !asset {
            continue;
        }
        for (suffix, compress) in [
            ("br", brotli_best as fn(&[u8]) -> Vec<u8>),
            ("gz", gzip_best),
        ] {
            let target = PathBuf::from(format!("{}.{suffix}", path.display()));
            if target.exists() {
                continue;
            }
            let written = std::fs::read(&path).and_then(|bytes| {
                let mut out = std::fs::File::create(&target)?;
                out.write_all(&compress(&bytes))
            });
            match written {
                Ok(()) => tracing::info!(file = %target.display(), "precompressed"),
                Err(error) => {
                    let _ = std::fs::remove_file(&target);
                    tracing::warn!(%error, file = %target.display(), "could not precompress: served compressed on the fly");
                }
            }
        }
    }
}

fn brotli_best(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
    out
}

fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_file_names_the_three_assets() {
        let file = Path::new("hash.txt");
        assert_eq!(
            assets_named("up", "js: AAA\nwasm: BBB\ncss: CCC\n", file).unwrap(),
            ["up.AAA.js", "up.BBB.wasm", "up.CCC.css"]
        );
        let missing = assets_named("up", "js: AAA\ncss: CCC\n", file).unwrap_err();
        assert_eq!(missing.to_string(), "hash.txt names no wasm file");
    }

    #[test]
    fn missing_compressed_forms_are_written_and_decompress_to_the_asset() {
        let dir = tempfile::tempdir().unwrap();
        let asset = dir.path().join("up.abc.wasm");
        let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
        std::fs::write(&asset, &bytes).unwrap();
        precompress(dir.path());
        let br = std::fs::read(dir.path().join("up.abc.wasm.br")).unwrap();
        assert!(br.len() < bytes.len() / 10);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, bytes);
        assert!(dir.path().join("up.abc.wasm.gz").exists());
    }
}
