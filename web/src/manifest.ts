// The variant streams of an HLS master playlist: enough to offer each rendition's own playlist for download.

export interface Variant { url: string; width?: number; height?: number; bandwidth?: number }

export function variantsOf(master: string, masterUrl: string, origin = location.origin): Variant[] {
  const lines = master.split(/\r?\n/).map(l => l.trim());
  const variants: Variant[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return;
    const uri = lines.slice(i + 1).find(l => l && !l.startsWith('#'));
    if (!uri) return;
    const resolution = /RESOLUTION=(\d+)x(\d+)/.exec(line);
    const bandwidth = /(?:^|[:,])BANDWIDTH=(\d+)/.exec(line);
    variants.push({
      url: new URL(uri, new URL(masterUrl, origin)).pathname,
      width: resolution ? Number(resolution[1]) : undefined,
      height: resolution ? Number(resolution[2]) : undefined,
      bandwidth: bandwidth ? Number(bandwidth[1]) : undefined,
    });
  });
  return variants;
}
