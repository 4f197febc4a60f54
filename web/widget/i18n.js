// UI strings of the widget in zh-CN, en, ja, es, fr, and the rule that picks one: the visitor's
// saved choice, else the browser's languages, else English. Messages themselves are never
// translated; only the widget's own chrome.

const S = {
  en: {
    open: 'Open chat', close: 'Close chat', title: 'Chat with us', input: 'Type a message',
    send: 'Send', emoji: 'Insert emoji', voice: 'Voice input', voiceStop: 'Stop voice input',
    human: 'Talk to a human', settings: 'Settings', theme: 'Theme', system: 'System',
    light: 'Light', dark: 'Dark', font: 'Text size', small: 'Small', medium: 'Medium',
    large: 'Large', lang: 'Language', unread: '{n} unread', sending: 'Sending…',
    queued: 'Waiting for connection', failed: 'Not sent', offline: 'Offline — messages will be sent when you reconnect.',
    connecting: 'Connecting…', typing: 'Typing…', sources: 'Sources',
    handoff: 'You asked for a person. Someone will be with you shortly.',
    joined: '{name} joined the conversation', left: 'The agent left; you are back in the queue.',
    bot: 'The assistant is back in this conversation.', resolved: 'This conversation was marked resolved.',
    reopened: 'The conversation was reopened.', nobody: 'Nobody is online right now.',
    contactAsk: 'Leave your e-mail and we will reply there.', email: 'E-mail',
    submit: 'Send e-mail', contactThanks: 'Thanks! We will reply to {email}.',
    badEmail: 'Please enter a valid e-mail address.', error: 'Something went wrong. Please try again.',
    you: 'You', agent: 'Agent', assistant: 'Assistant', messages: 'Messages',
    helpful: 'Helpful', notHelpful: 'Not helpful', thanks: 'Thanks for your feedback!', whyNot: 'What was wrong?', 'why.wrong': 'Not correct', 'why.unclear': 'Hard to understand', 'why.off_topic': 'Not what I asked',
    csat: 'How satisfied are you with this conversation?', stars: '{n} of 5',
    accept: 'Accept and continue', privacy: 'Privacy policy',
    download: 'Download my data', delete: 'Delete my data', deleteAsk: 'Delete this chat and everything we store about you? This cannot be undone.', deleteYes: 'Delete', cancel: 'Cancel', deleted: 'Your data was deleted.',
    attach: 'Attach a file', remove: 'Remove', tooLarge: 'This file is too large (at most {max}).', badType: 'This kind of file cannot be sent.',
  },
  'zh-CN': {
    open: '打开在线客服', close: '关闭对话', title: '在线客服', input: '输入消息',
    send: '发送', emoji: '插入表情', voice: '语音输入', voiceStop: '停止语音输入',
    human: '转人工客服', settings: '设置', theme: '主题', system: '跟随系统',
    light: '浅色', dark: '深色', font: '字号', small: '小', medium: '中', large: '大',
    lang: '语言', unread: '{n} 条未读', sending: '发送中…', queued: '等待网络连接',
    failed: '发送失败', offline: '网络已断开，恢复后会自动发送。', connecting: '正在连接…',
    typing: '正在输入…', sources: '来源', handoff: '已为您转接人工客服，请稍候。',
    joined: '{name} 已加入对话', left: '客服已离开，您已重新排队。', bot: '智能助手已回到对话。',
    resolved: '本次对话已结束。', reopened: '对话已重新打开。', nobody: '当前没有客服在线。',
    contactAsk: '请留下邮箱，我们会尽快回复您。', email: '邮箱', submit: '提交邮箱',
    contactThanks: '谢谢！我们会回复到 {email}。', badEmail: '请输入有效的邮箱地址。',
    error: '出错了，请重试。', you: '我', agent: '客服', assistant: '智能助手', messages: '消息',
    helpful: '有帮助', notHelpful: '没帮助', thanks: '感谢您的反馈！', whyNot: '哪里不对？', 'why.wrong': '答案不正确', 'why.unclear': '看不懂', 'why.off_topic': '答非所问',
    csat: '您对本次服务满意吗？', stars: '{n} 分（满分 5 分）',
    accept: '同意并继续', privacy: '隐私政策',
    download: '下载我的数据', delete: '删除我的数据', deleteAsk: '删除本次对话以及我们保存的关于你的全部数据？此操作无法撤销。', deleteYes: '删除', cancel: '取消', deleted: '你的数据已删除。',
    attach: '添加附件', remove: '移除', tooLarge: '文件太大（最大 {max}）。', badType: '不支持发送此类文件。',
  },
  ja: {
    open: 'チャットを開く', close: 'チャットを閉じる', title: 'お問い合わせ', input: 'メッセージを入力',
    send: '送信', emoji: '絵文字を挿入', voice: '音声入力', voiceStop: '音声入力を停止',
    human: '担当者と話す', settings: '設定', theme: 'テーマ', system: 'システム',
    light: 'ライト', dark: 'ダーク', font: '文字サイズ', small: '小', medium: '中', large: '大',
    lang: '言語', unread: '未読 {n} 件', sending: '送信中…', queued: '接続を待っています',
    failed: '送信できませんでした', offline: 'オフラインです。再接続後に送信されます。',
    connecting: '接続中…', typing: '入力中…', sources: '出典',
    handoff: '担当者におつなぎします。しばらくお待ちください。', joined: '{name} が参加しました',
    left: '担当者が退出しました。順番待ちに戻りました。', bot: 'アシスタントが対応に戻りました。',
    resolved: 'この会話は解決済みになりました。', reopened: '会話が再開されました。',
    nobody: '現在対応できる担当者がいません。', contactAsk: 'メールアドレスを残していただければ返信します。',
    email: 'メールアドレス', submit: 'メールを送信', contactThanks: 'ありがとうございます。{email} に返信します。',
    badEmail: '有効なメールアドレスを入力してください。', error: 'エラーが発生しました。もう一度お試しください。',
    you: 'あなた', agent: '担当者', assistant: 'アシスタント', messages: 'メッセージ',
    helpful: '役に立った', notHelpful: '役に立たなかった', thanks: 'フィードバックありがとうございます！', whyNot: '何が問題でしたか？', 'why.wrong': '正しくない', 'why.unclear': 'わかりにくい', 'why.off_topic': '質問の答えではない',
    csat: '今回の対応にどの程度満足されましたか？', stars: '5 段階中 {n}',
    accept: '同意して続ける', privacy: 'プライバシーポリシー',
    download: 'データをダウンロード', delete: 'データを削除', deleteAsk: 'このチャットと保存されているすべてのデータを削除しますか？元に戻せません。', deleteYes: '削除', cancel: 'キャンセル', deleted: 'データを削除しました。',
    attach: 'ファイルを添付', remove: '削除', tooLarge: 'ファイルが大きすぎます（最大 {max}）。', badType: 'この種類のファイルは送信できません。',
  },
  es: {
    open: 'Abrir chat', close: 'Cerrar chat', title: 'Chatea con nosotros', input: 'Escribe un mensaje',
    send: 'Enviar', emoji: 'Insertar emoji', voice: 'Entrada de voz', voiceStop: 'Detener entrada de voz',
    human: 'Hablar con una persona', settings: 'Ajustes', theme: 'Tema', system: 'Sistema',
    light: 'Claro', dark: 'Oscuro', font: 'Tamaño del texto', small: 'Pequeño', medium: 'Mediano',
    large: 'Grande', lang: 'Idioma', unread: '{n} sin leer', sending: 'Enviando…',
    queued: 'Esperando conexión', failed: 'No enviado', offline: 'Sin conexión: los mensajes se enviarán al reconectar.',
    connecting: 'Conectando…', typing: 'Escribiendo…', sources: 'Fuentes',
    handoff: 'Has pedido hablar con una persona. Enseguida te atienden.', joined: '{name} se ha unido',
    left: 'El agente se fue; vuelves a la cola.', bot: 'El asistente vuelve a atenderte.',
    resolved: 'La conversación se marcó como resuelta.', reopened: 'La conversación se reabrió.',
    nobody: 'Ahora mismo no hay nadie conectado.', contactAsk: 'Déjanos tu correo y te responderemos allí.',
    email: 'Correo electrónico', submit: 'Enviar correo', contactThanks: '¡Gracias! Responderemos a {email}.',
    badEmail: 'Introduce un correo válido.', error: 'Algo salió mal. Inténtalo de nuevo.',
    you: 'Tú', agent: 'Agente', assistant: 'Asistente', messages: 'Mensajes',
    helpful: 'Útil', notHelpful: 'No es útil', thanks: '¡Gracias por tu opinión!', whyNot: '¿Qué falló?', 'why.wrong': 'No es correcto', 'why.unclear': 'Difícil de entender', 'why.off_topic': 'No es lo que pregunté',
    csat: '¿Qué tan satisfecho estás con esta conversación?', stars: '{n} de 5',
    accept: 'Aceptar y continuar', privacy: 'Política de privacidad',
    download: 'Descargar mis datos', delete: 'Borrar mis datos', deleteAsk: '¿Borrar este chat y todo lo que guardamos sobre ti? No se puede deshacer.', deleteYes: 'Borrar', cancel: 'Cancelar', deleted: 'Tus datos se han borrado.',
    attach: 'Adjuntar archivo', remove: 'Quitar', tooLarge: 'El archivo es demasiado grande (máx. {max}).', badType: 'Este tipo de archivo no se puede enviar.',
  },
  fr: {
    open: 'Ouvrir le chat', close: 'Fermer le chat', title: 'Discutons', input: 'Écrivez un message',
    send: 'Envoyer', emoji: 'Insérer un emoji', voice: 'Saisie vocale', voiceStop: 'Arrêter la saisie vocale',
    human: 'Parler à une personne', settings: 'Réglages', theme: 'Thème', system: 'Système',
    light: 'Clair', dark: 'Sombre', font: 'Taille du texte', small: 'Petite', medium: 'Moyenne',
    large: 'Grande', lang: 'Langue', unread: '{n} non lus', sending: 'Envoi…',
    queued: 'En attente de connexion', failed: 'Non envoyé', offline: 'Hors ligne : les messages partiront à la reconnexion.',
    connecting: 'Connexion…', typing: 'Écrit…', sources: 'Sources',
    handoff: 'Vous avez demandé une personne. Quelqu’un arrive.', joined: '{name} a rejoint la conversation',
    left: 'L’agent est parti ; vous êtes de retour dans la file.', bot: 'L’assistant reprend la conversation.',
    resolved: 'Cette conversation est résolue.', reopened: 'La conversation a été rouverte.',
    nobody: 'Personne n’est en ligne pour le moment.', contactAsk: 'Laissez votre e-mail, nous vous répondrons.',
    email: 'E-mail', submit: 'Envoyer l’e-mail', contactThanks: 'Merci ! Nous répondrons à {email}.',
    badEmail: 'Saisissez une adresse e-mail valide.', error: 'Une erreur est survenue. Réessayez.',
    you: 'Vous', agent: 'Agent', assistant: 'Assistant', messages: 'Messages',
    helpful: 'Utile', notHelpful: 'Pas utile', thanks: 'Merci pour votre avis !', whyNot: 'Qu’est-ce qui n’allait pas ?', 'why.wrong': 'Pas correct', 'why.unclear': 'Difficile à comprendre', 'why.off_topic': 'Hors sujet',
    csat: 'Êtes-vous satisfait de cette conversation ?', stars: '{n} sur 5',
    accept: 'Accepter et continuer', privacy: 'Politique de confidentialité',
    download: 'Télécharger mes données', delete: 'Supprimer mes données', deleteAsk: 'Supprimer cette discussion et tout ce que nous conservons sur vous ? Action irréversible.', deleteYes: 'Supprimer', cancel: 'Annuler', deleted: 'Vos données ont été supprimées.',
    attach: 'Joindre un fichier', remove: 'Retirer', tooLarge: 'Fichier trop volumineux (max. {max}).', badType: 'Ce type de fichier ne peut pas être envoyé.',
  },
};

/** Languages offered in the settings, with their own names. */
export const LANGS = { 'zh-CN': '简体中文', en: 'English', ja: '日本語', es: 'Español', fr: 'Français' };

/** The supported language closest to `wanted` (a BCP 47 tag), or null. */
export function match(wanted) {
  if (!wanted) return null;
  const w = String(wanted).toLowerCase();
  if (w.startsWith('zh')) return 'zh-CN';
  const base = w.split('-')[0];
  return base in S ? base : null;
}

/** The saved choice, else the first browser language we speak, else English. */
export function pick(saved) {
  if (saved && S[saved]) return saved;
  for (const l of navigator.languages || [navigator.language]) {
    const m = match(l);
    if (m) return m;
  }
  return 'en';
}

/** A translator for `lang`: t('joined', {name}) fills `{name}`; unknown keys fall back to English. */
export function translator(lang) {
  const d = S[lang] || S.en;
  return (key, vars) => {
    let s = d[key] ?? S.en[key] ?? key;
    if (vars) for (const k in vars) s = s.replace(`{${k}}`, vars[k]);
    return s;
  };
}
