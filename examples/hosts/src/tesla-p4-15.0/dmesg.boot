---<<BOOT>>---
Copyright (c) 1992-2025 The FreeBSD Project.
Copyright (c) 1979, 1980, 1983, 1986, 1988, 1989, 1991, 1992, 1993, 1994
	The Regents of the University of California. All rights reserved.
FreeBSD is a registered trademark of The FreeBSD Foundation.
FreeBSD 15.0-RELEASE-p2 releng/15.0-n281010-8f2b5c1a0d3e GENERIC amd64
FreeBSD clang version 19.1.7 (https://github.com/llvm/llvm-project.git llvmorg-19.1.7-0-gcd708029e0b2)
VT(efifb): resolution 1024x768
CPU: Intel(R) Xeon(R) E-2274G CPU @ 4.00GHz (4000.00-MHz K8-class CPU)
  Origin="GenuineIntel"  Id=0x906ea  Family=0x6  Model=0x9e  Stepping=10
  Features=0xbfebfbff<FPU,VME,DE,PSE,TSC,MSR,PAE,MCE,CX8,APIC,SEP,MTRR,PGE,MCA,CMOV,PAT,PSE36,CLFLUSH,DTS,ACPI,MMX,FXSR,SSE,SSE2,SS,HTT,TM,PBE>
  Features2=0x7ffafbff<SSE3,PCLMULQDQ,DTES64,MON,DS_CPL,VMX,SMX,EST,TM2,SSSE3,SDBG,FMA,CX16,xTPR,PDCM,PCID,SSE4.1,SSE4.2,x2APIC,MOVBE,POPCNT,TSCDLT,AESNI,XSAVE,OSXSAVE,AVX,F16C,RDRAND>
  AMD Features=0x2c100800<SYSCALL,NX,Page1GB,RDTSCP,LM>
  AMD Features2=0x121<LAHF,ABM,Prefetch>
  Structured Extended Features=0x29c6fbf<FSGSBASE,TSCADJ,SGX,BMI1,HLE,AVX2,SMEP,BMI2,ERMS,INVPCID,RTM,NFPUSG,MPX,RDSEED,ADX,SMAP,CLFLUSHOPT,PROCTRACE>
  Structured Extended Features3=0x9c002600<MCUOPT,MD_CLEAR,TSXFA,IBPB,STIBP,L1DFL,SSBD>
  XSAVE Features=0xf<XSAVEOPT,XSAVEC,XINUSE,XSAVES>
  VT-x: PAT,HLT,MTF,PAUSE,EPT,UG,VPID
  TSC: P-state invariant, performance statistics
real memory  = 68717379584 (65534 MB)
avail memory = 66709450752 (63619 MB)
Event timer "LAPIC" quality 600
ACPI APIC Table: <SUPERM SMCI--MB>
FreeBSD/SMP: Multiprocessor System Detected: 8 CPUs
FreeBSD/SMP: 1 package(s) x 4 core(s) x 2 hardware threads
ioapic0 <Version 2.0> irqs 0-119
acpi0: <SUPERM SMCI--MB>
pcib0: <ACPI Host-PCI bridge> port 0xcf8-0xcff on acpi0
pci0: <ACPI PCI bus> on pcib0
pcib1: <ACPI PCI-PCI bridge> irq 16 at device 1.0 on pci0
pci1: <ACPI PCI bus> on pcib1
ppt0 mem 0x90000000-0x90ffffff,0x6000000000-0x600fffffff,0x6010000000-0x6011ffffff at device 0.0 on pci1
xhci0: <Intel Cannon Lake USB 3.1 controller> mem 0x91200000-0x9120ffff irq 16 at device 20.0 on pci0
ahci0: <Intel Cannon Lake AHCI SATA controller> port 0x4050-0x4057,0x4040-0x4043,0x4020-0x403f mem 0x91234000-0x91235fff,0x91237000-0x912370ff,0x91236000-0x912367ff irq 16 at device 23.0 on pci0
pcib2: <ACPI PCI-PCI bridge> irq 16 at device 27.0 on pci0
pci2: <ACPI PCI bus> on pcib2
nvme0: <Generic NVMe Device> mem 0x91100000-0x91103fff irq 16 at device 0.0 on pci2
isab0: <PCI-ISA bridge> at device 31.0 on pci0
isa0: <ISA bus> on isab0
em0: <Intel(R) I219-LM SPT-H(7)> mem 0x91300000-0x9131ffff irq 16 at device 31.6 on pci0
em0: Using 1024 TX descriptors and 1024 RX descriptors
em0: Ethernet address: 3c:ec:ef:10:22:31
em0: netmap queues/slots: TX 1/1024, RX 1/1024
efifb0: <EFI framebuffer> on vt0
dmar0: <DMA remap> iomem 0xfed90000-0xfed90fff on acpi0
dmar1: <DMA remap> iomem 0xfed91000-0xfed91fff on acpi0
nda0 at nvme0 bus 0 scbus0 target 0 lun 1
nda0: <SAMSUNG MZVLB512HBJQ-00000 EXF7301Q S4GENX0N123456>
Trying to mount root from zfs:zroot/ROOT/default []...
