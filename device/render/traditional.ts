/**
 * The sign's own Chinese words in Traditional characters, for agencies whose
 * config says so (Hong Kong, Taipei). Only built-in strings go through this:
 * feed text is shown as the feed gives it. The table covers every character
 * of the built-in strings that has a Traditional form; tests/board-rows.test.ts
 * checks it against OpenCC.
 */
const TRADITIONAL: Record<string, string> = {
  进: '進',
  钟: '鐘',
  计: '計',
  划: '劃',
  满: '滿',
  员: '員',
  时: '時',
  实: '實',
  无: '無',
  暂: '暫',
  务: '務',
  结: '結',
  内: '內',
  开: '開',
  后: '後',
  将: '將',
  为: '為',
  间: '間',
  紧: '緊',
  点: '點',
  预: '預',
  报: '報',
  线: '線',
  车: '車',
  经: '經',
  条: '條',
  这: '這',
  运: '運',
  营: '營',
  终: '終',
  发: '發',
  刻: '刻',
  据: '據',
  态: '態',
  达: '達',
  号: '號',
  门: '門',
  关: '關',
  闭: '閉',
  维: '維',
  修: '修',
  请: '請',
  候: '候',
  乘: '乘',
  延: '延',
  误: '誤',
  东: '東',
  图: '圖',
  确: '確',
  认: '認',
  风: '風',
  险: '險',
  离: '離',
  还: '還',
  没: '沒',
  页: '頁',
  总: '總',
  区: '區',
  诸: '諸',
};

export type ChineseScript = 'simplified' | 'traditional';

export function inScript(text: string, script: ChineseScript): string {
  if (script === 'simplified') return text;
  let out = '';
  for (const char of text) out += TRADITIONAL[char] ?? char;
  return out;
}
