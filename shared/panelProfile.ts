/**
 * A panel profile: everything about one kind of glass as data (size, colours,
 * modules, fonts, layout template, refresh policy, driver and wiring), so a new
 * panel is a JSON file, not a branch in code. The schema reports every problem
 * of a file together; cross-field checks (fonts per line height, the layout
 * fitting the glass, modules tiling it) run in the same pass.
 */
import { z } from 'zod';

export const PANEL_PROFILE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const panelProfileId = z
  .string()
  .regex(PANEL_PROFILE_ID_PATTERN, 'profile id must be 1-64 of a-z 0-9 -');

/** The default profile: today's 192x64 tri-colour LED sign. */
export const DEFAULT_PANEL_PROFILE = 'led-192x64-tricolour';

const px = (max: number) => z.number().int().min(1).max(max);
const gpioLine = z.number().int().min(0).max(1023);

const face = z.object({
  family: z.string().min(1),
  /** The font file; registered under the family it declares. */
  file: z.string().startsWith('/', 'font file must be an absolute path'),
  /** Debian package that ships the file, named when it is missing. */
  package: z.string().min(1),
  weight: z.enum(['normal', 'bold']).default('normal'),
  sizePx: px(512),
  /** Baseline, px below the top of the line, chosen so the ink sits centred. */
  baseline: px(512),
  /** Sizes at which the face has hand-tuned bitmap strikes; sizePx must be one of them. */
  bitmapSizes: z.array(px(512)).optional(),
});
export type PanelFace = z.infer<typeof face>;

const fontSet = z.object({ latin: face, cjk: face });
export type PanelFontSet = z.infer<typeof fontSet>;

/** What the glass can show; each model has a fixed palette (device/render/glassPalette.ts). */
export const colourModels = [
  'mono-led',
  'red-green-led',
  'rgb-led',
  'grey4-eink',
  'grey16-eink',
  'bw-eink',
  'bwr-eink',
] as const;
export type ColourModel = (typeof colourModels)[number];

/** The renderer's colour roles; each maps to one of the glass's colours. */
export const inkRoles = ['amber', 'green', 'red', 'white', 'blue', 'yellow', 'grey'] as const;
export type InkRole = (typeof inkRoles)[number];

const colour = z.object({
  model: z.enum(colourModels),
  /** Mono LED: the one colour the LEDs light, as RGB. */
  ledRgb: z
    .tuple([
      z.number().int().min(0).max(255),
      z.number().int().min(0).max(255),
      z.number().int().min(0).max(255),
    ])
    .optional(),
  /** Role -> palette index of this model; roles left out use the model's default. */
  inks: z.partialRecord(z.enum(inkRoles), z.number().int().min(0).max(15)).default({}),
});

const modules = z.object({
  /** One module (e.g. a 64x32 HUB75 tile). */
  width: px(4096),
  height: px(4096),
  /** rows: every module row runs left to right; serpentine: every other row is mounted upside down. */
  chain: z.enum(['rows', 'serpentine']).default('rows'),
  /** The glass is mounted turned by this much; frames are drawn upright and turned for the wire. */
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).default(0),
});

const layout = z.object({
  lineHeight: px(512),
  /** Departure rows: route | destination | time. */
  routeWidth: px(4096),
  /**
   * Least width of the time column. The sign measures the column with the
   * profile's fonts to hold its widest countdown or clock time (and a route's
   * second time where rows are grouped), so this is only needed to reserve more.
   */
  timeWidth: px(4096).optional(),
  /**
   * Least width a destination keeps when a wide time ("Cancelled") takes room
   * from it; three lines' height when unset (see leastDestinationWidth).
   */
  minDestinationWidth: px(4096).optional(),
  gutter: z.number().int().min(0).max(256),
  clockWidth: px(4096),
  /** alternate: one language per page; both: each row shows Chinese over English. */
  languages: z.enum(['alternate', 'both']).default('alternate'),
  /** Seconds a language page or departure page stays up. */
  pageSeconds: z.number().int().min(2).max(600).default(5),
  /** More departures than rows: page through them, or next two times per route. */
  overflow: z.enum(['page', 'group-by-route']).default('page'),
  /** Long names and announcements may scroll (LED) or must page (e-ink). */
  scroll: z.boolean().default(false),
  /** Where info and warnings go: the status line / a ticker, or alternating with departures. */
  notices: z.enum(['line', 'alternate']).default('line'),
  /** A header line with the stop name (large panels). */
  header: z.boolean().default(false),
});
export type PanelLayoutTemplate = z.infer<typeof layout>;

const ledRefresh = z.object({
  kind: z.literal('led'),
});

const einkRefresh = z.object({
  kind: z.literal('eink'),
  /** The panel's rated least time between two refreshes. */
  minIntervalSeconds: z.number().int().min(1).max(86_400),
  /** Partial refreshes allowed between two full ones (0: full refresh only). */
  partialsBeforeFull: z.number().int().min(0).max(1000),
  /** A full refresh at least this often, against ghosting. */
  fullEveryHours: z.number().int().min(1).max(24),
  /** Rated operating range for a refresh, degrees Celsius. */
  temperatureC: z.object({ min: z.number().int(), max: z.number().int() }),
  /** Render time is rounded down to this step, so seconds never change the paper. */
  timeStepSeconds: z.number().int().min(1).max(3600).default(60),
});

const ledSerial = z.object({
  type: z.literal('led-serial'),
  serialPath: z.string().min(1),
  baudRate: z.number().int().min(1200).max(4_000_000).default(921_600),
});

const spi = z.object({
  device: z.string().startsWith('/dev/spidev', 'expected /dev/spidevB.C'),
  speedHz: z.number().int().min(100_000).max(50_000_000),
  mode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).default(0),
});

const uc8179 = z.object({
  type: z.literal('uc8179'),
  spi,
  /** BUSY is active low on UltraChip controllers; RST is active low. */
  gpio: z.object({ busy: gpioLine, reset: gpioLine, dc: gpioLine, power: gpioLine }),
});

const it8951 = z.object({
  type: z.literal('it8951'),
  spi,
  /** HRDY (host ready) takes BUSY's place; the bus carries commands in a preamble, so no DC. */
  gpio: z.object({ busy: gpioLine, reset: gpioLine, power: gpioLine }),
  /** Panel VCOM from its flex cable label, millivolts (negative voltage). */
  vcomMv: z.number().int().min(200).max(5000),
});

/** Lines of the pole board; all optional, a missing one means the sign has no such part. */
const boardGpio = z
  .object({
    panelPower: gpioLine,
    backlight: gpioLine,
    /** Light sensor comparator: 1 = daylight. */
    ambientLight: gpioLine,
    /** Cabinet door switch: 1 = open. */
    doorSwitch: gpioLine,
    /** Passenger push button: 1 = pressed. */
    button: gpioLine,
    /** Inputs settle for this long before a change counts. */
    debounceMs: z.number().int().min(1).max(5000),
  })
  .partial()
  .default({});

/** A destination keeps at least three lines' height of width: a word or two stays readable. */
export function leastDestinationWidth(layout: {
  lineHeight: number;
  minDestinationWidth?: number | undefined;
}): number {
  return layout.minDestinationWidth ?? 3 * layout.lineHeight;
}

export const panelProfileSchema = z
  .object({
    id: panelProfileId,
    description: z.string().min(1).max(200),
    kind: z.enum(['led', 'eink']),
    width: px(4096),
    height: px(4096),
    colour,
    modules,
    /** Fonts per line height, keyed by the height in px. */
    fonts: z.record(
      z.string().regex(/^\d+$/, 'font sizes are keyed by line height in px'),
      fontSet,
    ),
    layout,
    refresh: z.discriminatedUnion('kind', [ledRefresh, einkRefresh]),
    driver: z.discriminatedUnion('type', [ledSerial, uc8179, it8951]),
    gpio: boardGpio,
  })
  .superRefine((p, ctx) => {
    const problem = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const eink = p.kind === 'eink';
    if (eink !== p.colour.model.endsWith('-eink')) {
      problem(['colour', 'model'], `${p.colour.model} is not a colour model for ${p.kind} glass`);
    }
    if (eink !== (p.refresh.kind === 'eink')) {
      problem(['refresh', 'kind'], `${p.kind} glass needs the ${p.kind} refresh policy`);
    }
    if (eink === (p.driver.type === 'led-serial')) {
      problem(['driver', 'type'], `${p.driver.type} does not drive ${p.kind} glass`);
    }
    if (p.colour.model === 'mono-led' && !p.colour.ledRgb) {
      problem(['colour', 'ledRgb'], 'a mono LED panel names the colour of its LEDs');
    }
    if (p.refresh.kind === 'eink' && p.refresh.temperatureC.min >= p.refresh.temperatureC.max) {
      problem(['refresh', 'temperatureC'], 'minimum must be below maximum');
    }
    const { lineHeight, routeWidth, timeWidth, gutter, clockWidth } = p.layout;
    const leastDestination = leastDestinationWidth(p.layout);
    const fonts = p.fonts[String(lineHeight)];
    if (!fonts) problem(['fonts'], `no fonts for the layout's ${lineHeight} px lines`);
    for (const [size, set] of Object.entries(p.fonts)) {
      for (const script of ['latin', 'cjk'] as const) {
        const f = set[script];
        if (f.sizePx > Number(size) || f.baseline > Number(size)) {
          problem(['fonts', size, script], `${f.sizePx} px face on ${size} px lines does not fit`);
        }
        if (f.bitmapSizes && !f.bitmapSizes.includes(f.sizePx)) {
          problem(
            ['fonts', size, script, 'sizePx'],
            `${f.family} has no bitmap strike at ${f.sizePx} px`,
          );
        }
      }
    }
    const rowLines = p.layout.languages === 'both' ? 2 : 1;
    const fixedLines = 1 + (p.layout.header ? 1 : 0);
    if ((rowLines + fixedLines) * lineHeight > p.height) {
      problem(['layout', 'lineHeight'], `not even one departure row fits ${p.height} px`);
    }
    // The time column's measured width is known only once the fonts are loaded;
    // the least destination width must fit beside the route in any case.
    if (routeWidth + (timeWidth ?? 0) + 2 * gutter + leastDestination > p.width) {
      problem(
        ['layout'],
        `route and time columns leave no room for a destination on ${p.width} px`,
      );
    }
    if (clockWidth + gutter >= p.width)
      problem(['layout', 'clockWidth'], 'clock wider than the glass');
    const turned = p.modules.rotation === 90 || p.modules.rotation === 270;
    const glassW = turned ? p.height : p.width;
    const glassH = turned ? p.width : p.height;
    if (glassW % p.modules.width !== 0 || glassH % p.modules.height !== 0) {
      problem(
        ['modules'],
        `${p.modules.width}x${p.modules.height} modules do not tile ${glassW}x${glassH} glass`,
      );
    }
    const lines = Object.entries(p.gpio).filter(([name]) => name !== 'debounceMs');
    const driverLines = 'gpio' in p.driver ? Object.entries(p.driver.gpio) : [];
    const seen = new Map<number, string>();
    for (const [name, line] of [...lines, ...driverLines]) {
      const other = seen.get(line);
      if (other) problem(['gpio', name], `line ${String(line)} is already ${other}`);
      else seen.set(line, name);
    }
  });

export type PanelProfile = z.output<typeof panelProfileSchema>;
export type PanelProfileInput = z.input<typeof panelProfileSchema>;

export class PanelProfileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`panel profile ${source} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PanelProfileError';
  }
}

/** Checks a parsed JSON value; throws PanelProfileError naming every problem. */
export function parsePanelProfile(json: unknown, source: string): PanelProfile {
  const parsed = panelProfileSchema.safeParse(json);
  if (!parsed.success) {
    throw new PanelProfileError(
      source,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}

/** An agency's abbreviations for names that do not fit (panels/abbreviations/<agency>.json). */
export const abbreviationTableSchema = z.object({
  description: z.string().min(1).max(200),
  agency: z.string().regex(PANEL_PROFILE_ID_PATTERN, 'agency id must be 1-64 of a-z 0-9 -'),
  abbreviations: z
    .array(z.tuple([z.string().min(2).max(64), z.string().min(1).max(32)]))
    .max(2000)
    .refine((pairs) => pairs.every(([long, short]) => short.length < long.length), {
      message: 'an abbreviation must be shorter than what it abbreviates',
    }),
});
export type AbbreviationTableFile = z.infer<typeof abbreviationTableSchema>;
