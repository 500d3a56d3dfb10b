; Inno Setup 6 script: a per-user EventDesk installer that needs no administrator rights.
;
; First build the bundle on Windows (`make package`, or the pyinstaller line in
; packaging/README.md), which gives dist\eventdesk\ with eventdesk.exe (command line, console)
; and eventdeskw.exe (the window, no console). Then, from the repository:
;
;   iscc /DAppVersion=0.1.0 packaging\windows\eventdesk.iss
;
; Output: dist\EventDesk-0.1.0-setup.exe. The program goes to
; %LOCALAPPDATA%\Programs\EventDesk; the desk's data stays in %LOCALAPPDATA%\EventDesk, which
; neither an upgrade nor the uninstaller touches.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; The AppId identifies EventDesk to Windows across versions: never change it.
AppId={{B4600762-452D-4C38-9729-BBB602F0EF2D}
AppName=EventDesk
AppVersion={#AppVersion}
AppVerName=EventDesk {#AppVersion}
AppPublisher=EventDesk
VersionInfoVersion={#AppVersion}
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\EventDesk
DisableProgramGroupPage=yes
DisableDirPage=auto
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=EventDesk-{#AppVersion}-setup
SetupIconFile=packaging\eventdesk.ico
UninstallDisplayIcon={app}\eventdeskw.exe
UninstallDisplayName=EventDesk
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running EventDesk before replacing its files, and tell Explorer when PATH changed.
CloseApplications=yes
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Let scripts run the &eventdesk command (adds it to your PATH)"; GroupDescription: "Command line:"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the program's libraries as a whole, so no file of an older version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "dist\eventdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\EventDesk"; Filename: "{app}\eventdeskw.exe"; Comment: "Registration desk: badges, check-in and certificates"
Name: "{userdesktop}\EventDesk"; Filename: "{app}\eventdeskw.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NotInPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\eventdeskw.exe"; Description: "{cm:LaunchProgram,EventDesk}"; Flags: nowait postinstall skipifsilent

[Code]
function NotInPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure RemoveFromPath(Dir: string);
var
  Path, Padded: string;
  At: Integer;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
    exit;
  Padded := ';' + Path + ';';
  At := Pos(';' + Uppercase(Dir) + ';', Uppercase(Padded));
  if At = 0 then
    exit;
  Delete(Padded, At, Length(Dir) + 1);
  Path := Copy(Padded, 2, Length(Padded) - 2);
  RegWriteExpandStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    RemoveFromPath(ExpandConstant('{app}'));
end;
